"""pyxform's own example forms (BSD-licensed, tests/fixtures/pyxform/) through POST /api/v1/surveys/import.

None may give a 500; each either imports (201) or is refused (400) with a reason per offending row; an
imported form drops no column silently: every column it fills is mapped, or named in the reply's warnings.
The tally is printed (run with -s to see it)."""
import io
from collections import Counter
from pathlib import Path

import pytest
from pyxform.xls2json_backends import get_xlsform

from services.survey import create_app
from services.survey.surveys.xlsform import MAPPED_COLUMNS
from tests import harness

FORMS = sorted(p for p in (Path(__file__).parent.parent / "fixtures" / "pyxform").iterdir() if p.name != "LICENSE")


@pytest.fixture(scope="module")
def importer(mongo_server):
    vhost = harness.RabbitVhost().create()
    config, _ = harness.make_config(mongo_server.url, vhost.url)
    app = create_app(config, background=False)
    client = app.test_client()

    def upload(path):
        r = client.post("/api/v1/surveys/import", headers={"Authorization": f"Bearer {config.admin_key}"},
                        data={"file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")
        return r.status_code, r.get_json()
    try:
        yield upload
    finally:
        app.extensions["manyi"].outbox.stop()
        vhost.delete()


def filled_columns(path):
    """{question name: columns with a value} on the survey sheet, as pyxform reads it."""
    try:
        rows = get_xlsform(str(path)).survey or []
    except Exception:  # a form pyxform cannot read at all: the import must refuse it, checked below
        return {}
    return {row.get("name"): {k.split("::")[0].split(":")[0] for k, v in row.items() if v not in (None, "")}
            for row in rows if row.get("name")}


@pytest.mark.slow  # pyxform reads 79 workbooks: about a minute of CPU
def test_pyxform_examples_never_500_and_never_drop_a_column_silently(importer):
    tally, failures = Counter(), []
    for path in FORMS:
        status, body = importer(path)
        if status == 201:
            tally["imported"] += 1
            warned = " ".join(str(w) for w in body.get("warnings", []))
            for name, columns in filled_columns(path).items():
                dropped = {c for c in columns if c not in MAPPED_COLUMNS and c not in warned}
                if dropped:
                    failures.append(f"{path.name} {name}: columns {sorted(dropped)} neither mapped nor warned about")
        elif status == 400 and body.get("errors"):
            tally["refused"] += 1
        else:
            tally[str(status)] += 1
            failures.append(f"{path.name}: {status} {body}")
    print(f"\npyxform examples: {len(FORMS)} forms, {tally['imported']} imported, {tally['refused']} refused "
          f"with reasons, {len(FORMS) - tally['imported'] - tally['refused']} other (500 or 400 without errors)")
    assert not failures, "\n".join(failures)
