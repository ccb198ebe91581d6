"""The publication as open data: a StatLine-compatible OData v3 feed of the published tables (tables.py: what a
table is, from the frozen publication; odata.py: the entity sets and query options; server.py: the web app),
read by the clients of StatLine itself (cbsodata, cbsodataR)."""
