"""dbt Labs' project evaluator's rules that matter to this project, checked over dbt's manifest: the package itself
cannot be installed here (dbt's hub is unreachable), so each rule is restated below as the evaluator computes it
(dbt-project-evaluator, models/marts/dag/ and tests/), and a test on a made-up manifest shows that it finds
what it should. The exceptions are named with their reason, as the evaluator's own exceptions seed would."""

from __future__ import annotations

from collections import defaultdict

JOINS_AT_MOST = 6  # fct_too_many_joins flags a model with too_many_joins_threshold (7) or more direct parents
KEY_TESTS = ({"unique", "not_null"}, {"unique_combination"})  # on one column, or on the columns together
IN_DAG = ("model.", "source.", "seed.", "snapshot.")  # the evaluator's DAG: no tests, exposures apart
EXPOSURE_PARENT_EXCEPTIONS = {
    "model.vt_warehouse.leveringen": "a view by design: `vt releases` and the freeze compare a release's last build "
    "with the deliveries loaded a moment ago, without running dbt; a table would let a freeze miss a delivery",
    "source.vt_warehouse.meta.builds": "written by dbt's own on-run-end hook after each build "
    "(macros/record_build.sql); a model over it would be a build behind",
}


def exposure_parent_problems(manifest: dict) -> dict[str, list[str]]:
    """Per exposure parent that is not a public model with an enforced contract, materialized as a table
    (fct_exposures_dependent_on_private_models, fct_exposure_parents_materializations, and a source as a parent:
    fct_exposures_dependent_on_sources): what is wrong with it."""
    out = {}
    for exposure in manifest["exposures"].values():
        for parent in exposure["depends_on"]["nodes"]:
            if parent.startswith("source."):
                out[parent] = ["a source"]
                continue
            node = manifest["nodes"][parent]
            if node["resource_type"] != "model":
                continue  # a seed is a table of the project's own data, with no access level
            wrong = []
            if node.get("access") != "public":
                wrong.append(f"access {node.get('access')}")
            if not node["config"].get("contract", {}).get("enforced"):
                wrong.append("no enforced contract")
            if node["config"]["materialized"] not in ("table", "incremental"):
                wrong.append(f"materialized as {node['config']['materialized']}")
            if wrong:
                out[parent] = wrong
    return out


def too_many_joins(manifest: dict) -> dict[str, int]:
    """Models with more direct parents than JOINS_AT_MOST (fct_too_many_joins)."""
    counts = {
        uid: len({p for p in manifest["parent_map"].get(uid, []) if p.startswith(IN_DAG)})
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    return {uid: n for uid, n in counts.items() if n > JOINS_AT_MOST}


def rejoined(manifest: dict) -> list[tuple[str, str, str]]:
    """(parent, in between, child) where the parent feeds the child directly and through a model whose only child
    is that child (fct_rejoining_of_upstream_concepts): the model in between is a concept rejoined."""
    children = {
        uid: [c for c in kids if c.startswith(IN_DAG)]
        for uid, kids in manifest["child_map"].items()
        if uid.startswith(IN_DAG)
    }
    out = []
    for parent, kids in children.items():
        for between in kids:
            theirs = children.get(between, [])
            if len(theirs) == 1 and theirs[0] in kids:
                out.append((parent, between, theirs[0]))
    return sorted(out)


def unused_sources(manifest: dict) -> list[str]:
    """Sources nothing reads (fct_unused_sources; a test of the source is not a reader)."""
    return sorted(
        uid
        for uid in manifest["sources"]
        if not [c for c in manifest["child_map"].get(uid, []) if not c.startswith("test.")]
    )


def duplicate_sources(manifest: dict) -> list[list[str]]:
    """Sources declared more than once for the same relation (fct_duplicate_sources)."""
    by_relation = defaultdict(list)
    for uid, node in manifest["sources"].items():
        by_relation[(node["database"], node["schema"], node["identifier"])].append(uid)
    return sorted(sorted(uids) for uids in by_relation.values() if len(uids) > 1)


def without_key_test(manifest: dict) -> list[str]:
    """Models without a primary-key test (fct_missing_primary_key_tests): unique and not_null on one column, or
    this project's unique_combination on the columns together. A not_null constraint of an enforced contract counts
    as the not_null test (DuckDB refuses the row while dbt inserts it)."""
    tests = defaultdict(lambda: defaultdict(set))  # model -> column (or None) -> test names
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] == "test" and node.get("attached_node") and node.get("test_metadata"):
            tests[node["attached_node"]][node.get("column_name")].add(node["test_metadata"]["name"])
        if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced"):
            for column, spec in node.get("columns", {}).items():
                if any(c.get("type") == "not_null" for c in spec.get("constraints") or []):
                    tests[uid][column].add("not_null")
    return sorted(
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and not any(kind <= names for names in tests[uid].values() for kind in KEY_TESTS)
    )


def test_exposures_read_public_contracted_tables_but_the_named_exceptions(manifest):
    problems = exposure_parent_problems(manifest)
    assert {uid: p for uid, p in problems.items() if uid not in EXPOSURE_PARENT_EXCEPTIONS} == {}
    # each exception is still needed (a public, contracted model, so only its materialization or being a source)
    assert sorted(problems) == sorted(EXPOSURE_PARENT_EXCEPTIONS)
    assert problems["model.vt_warehouse.leveringen"] == ["materialized as view"]


def test_no_model_joins_too_many_parents(manifest):
    assert too_many_joins(manifest) == {}


def test_no_concept_is_rejoined(manifest):
    assert rejoined(manifest) == []


def test_every_source_is_used_and_declared_once(manifest):
    assert manifest["sources"]  # the check sees sources at all
    assert unused_sources(manifest) == []
    assert duplicate_sources(manifest) == []


def test_every_model_has_a_key_test(manifest):
    assert without_key_test(manifest) == []


def _node(uid: str, **config) -> dict:
    kind = uid.split(".")[0]
    return {"resource_type": kind, "access": config.pop("access", "protected"), "config": config}


def test_the_checks_find_what_the_evaluator_would():
    """A made-up project with one case of each rule: the checks above are not vacuous."""
    model = "model.p.{}".format
    names = ["a", "b", "c", "j", *(f"p{i}" for i in range(8))]
    nodes = {model(x): _node(model(x), materialized="table") for x in names}
    nodes[model("pub")] = _node(model("pub"), access="public", materialized="view", contract={"enforced": True})
    nodes[model("pub")]["columns"] = {"id": {"constraints": [{"type": "not_null"}]}}
    nodes["test.p.key_pub"] = {
        "resource_type": "test",
        "attached_node": model("pub"),
        "column_name": "id",
        "test_metadata": {"name": "unique"},
    }
    nodes["test.p.key_a"] = {
        "resource_type": "test",
        "attached_node": model("a"),
        "column_name": "id",
        "test_metadata": {"name": "unique"},
    }
    parents = {uid: [] for uid in nodes}
    parents[model("j")] = [model(f"p{i}") for i in range(8)]  # eight parents
    parents[model("b")] = [model("a")]
    parents[model("c")] = [model("a"), model("b")]  # a -> b -> c and a -> c: b is rejoined
    children = defaultdict(list)
    for child, ps in parents.items():
        for p in ps:
            children[p].append(child)
    children["source.p.raw.x"] = []
    children["source.p.raw.y"] = [model("a")]
    manifest = {
        "nodes": nodes,
        "sources": {
            "source.p.raw.x": {"database": "d", "schema": "raw", "identifier": "x"},
            "source.p.raw.y": {"database": "d", "schema": "raw", "identifier": "x"},
        },
        "exposures": {"exposure.p.e": {"depends_on": {"nodes": [model("pub"), model("a"), "source.p.raw.y"]}}},
        "parent_map": parents,
        "child_map": dict(children),
    }
    assert exposure_parent_problems(manifest) == {
        model("pub"): ["materialized as view"],
        model("a"): ["access protected", "no enforced contract"],
        "source.p.raw.y": ["a source"],
    }
    assert too_many_joins(manifest) == {model("j"): 8}
    assert rejoined(manifest) == [(model("a"), model("b"), model("c"))]
    assert unused_sources(manifest) == ["source.p.raw.x"]
    assert duplicate_sources(manifest) == [["source.p.raw.x", "source.p.raw.y"]]
    # a unique test without not_null is no key (a); with a contract's not_null constraint it is (pub)
    assert without_key_test(manifest) == sorted(
        uid for uid in nodes if uid.startswith("model.") and uid != model("pub")
    )
