"""`manyi import-enterprises FILE`: the same parsing and all-or-nothing write as the HTTP import, straight
to MongoDB, with a progress bar on stderr for the large county lists."""
import json
import sys
from pathlib import Path

from services.survey.enterprises import importing as enterprise_import
from services.survey.store import SurveyStore
from shared.domain import utcnow

WIDTH = 30


def progress_bar(stream=sys.stderr):
    def show(done, total):
        filled = WIDTH * done // total
        stream.write(f"\r导入 importing [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}")
        if done == total:
            stream.write("\n")
        stream.flush()
    return show


def import_enterprises(config, file):
    path = Path(file)
    if not path.is_file():
        print(f"manyi: no such file: {file}", file=sys.stderr)
        return 2
    try:
        enterprises = enterprise_import.parse(path.name, path.read_bytes())
    except enterprise_import.ImportRefused as refused:
        print(f"manyi: {refused.message}", file=sys.stderr)
        for where, problem in refused.errors.items():
            print(f"  {where}: {json.dumps(problem, ensure_ascii=False)}", file=sys.stderr)
        return 1
    store = SurveyStore(config)
    result = enterprise_import.write(store.client, store.enterprises, enterprises, utcnow(), progress_bar())
    print(json.dumps(result))
    return 0
