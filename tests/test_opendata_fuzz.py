"""The open-data feed under a property-based attack: random text in every query option and path segment. Every
answer is below 500 with the security headers, and a 400 says why in OData's error shape. `make soak` runs it
with many more examples ($VT_FUZZ_EXAMPLES)."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.states import private_copy
from tests.test_portal_fuzz import FUZZ, TEXT
from vt_warehouse.opendata.server import FEED_HEADERS, create_app
from vt_warehouse.opendata.tables import STABLE_ID

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

# pieces of the $filter language, so that random filters get past the tokenizer and into the parser
WORDS = st.sampled_from(
    ["RegioS", "Perioden", "ID", "eq", "ne", "gt", "and", "or", "not", "(", ")", ",", "'VT05'", "'2020HJ01'",
     "substringof", "startswith", "endswith", "1", "-2.5", "null", "true", "''", "'", "GestarteAdviezen_1"]
)  # fmt: skip
OPERAND = st.sampled_from(
    ["RegioS", "Perioden", "ID", "GestarteAdviezen_1", "'VT05'", "'x'", "1", "-2.5", "null", "true"]
)
COMPARISON = st.builds(" ".join, st.tuples(OPERAND, st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]), OPERAND))
CALL = st.builds("{}({}, {})".format, st.sampled_from(["substringof", "startswith", "endswith"]), OPERAND, OPERAND)
FILTER = st.one_of(
    TEXT,
    st.lists(WORDS, max_size=40).map(" ".join),
    st.lists(st.one_of(COMPARISON, CALL), min_size=1, max_size=4).map(" or ".join),
)
OPTION = st.sampled_from(["$filter", "$select", "$top", "$skip", "$format", "$orderby", "x"])


@pytest.fixture(scope="module")
def client(refreshed_half_year, tmp_path_factory):
    home = private_copy(refreshed_half_year[0], tmp_path_factory.mktemp("feedfuzz"))
    return TestClient(create_app(home, page_size=7), raise_server_exceptions=False)


def healthy(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    for name in FEED_HEADERS:
        assert name.lower() in response.headers, name
    if response.status_code == 400:
        assert response.json()["odata.error"]["message"]["value"]


@FUZZ
@given(options=st.dictionaries(OPTION, FILTER, max_size=5), entity=st.sampled_from(["TypedDataSet", "RegioS"]))
def test_any_query_options(client, options, entity):
    healthy(client.get(f"/ODataFeed/odata/{STABLE_ID}/{entity}", params=options))


@FUZZ
@given(service=st.one_of(st.sampled_from(["ODataFeed", "ODataApi"]), TEXT), table=TEXT, entity=TEXT)
def test_any_path(client, service, table, entity):
    for path in (f"/{service}/odata/{table}", f"/{service}/odata/{table}/{entity}", f"/ODataCatalog/{entity}"):
        try:
            response = client.get(path.replace("?", "%3F").replace("#", "%23"))
        except Exception as e:  # the client refuses some URLs before sending: nothing reached the feed
            if "URL" in type(e).__name__ or "Invalid" in str(e):
                continue
            raise
        healthy(response)
