"""The loader: a delivery file, checked against its layout, into the warehouse's raw tables, with its BSNs
pseudonymised; and the reference data the loader checks a sender against. It imports nothing of the
application (`vt_warehouse`), which is built on it."""
