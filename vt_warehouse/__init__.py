"""Veilig Thuis warehouse: load deliveries, build and freeze releases, quality reports, publication, portal."""

from pathlib import Path

# The project the package runs: the dbt project, its models' YAML and the GX context sit beside the package.
PROJECT_DIR = Path(__file__).resolve().parent.parent
