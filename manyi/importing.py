"""`manyi import-enterprises FILE`: the same parsing and all-or-nothing write as the HTTP import, straight
to MongoDB, with a progress bar on stderr for the large county lists."""
import json
import sys
from pathlib import Path

from services.survey.bootstrap import bootstrap
from services.survey.enterprises.importing import ImportRefused, import_file

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
        result = import_file(bootstrap(config), path.name, path.read_bytes(), progress_bar())
    except ImportRefused as refused:
        print(f"manyi: {refused.message}", file=sys.stderr)
        for where, problem in refused.errors.items():
            print(f"  {where}: {json.dumps(problem, ensure_ascii=False)}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0
