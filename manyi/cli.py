"""`manyi`: the operator's command line."""
import argparse
import sys
import time
import urllib.request

from shared import config as config_module


def wait_ready(urls, seconds=90):
    end = time.time() + seconds
    for url in urls:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=3) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > end:
                print(f"manyi: {url} not ready after {seconds} s; see var/log/", file=sys.stderr)
                return 1
            time.sleep(0.3)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="manyi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rescore", help="recompute every stored aggregate from the stored ratings").add_argument(
        "--period", help="only this period (a quarter YYYYQn or a year YYYY)")
    c = sub.add_parser("check", help="reconcile what the survey service accepted with what scoring applied (listing "
                       "what is missing and where), and compare stored aggregates with a recomputation; "
                       "exit 1 on anything missing or any difference")
    c.add_argument("--period", help="only this period (a quarter YYYYQn or a year YYYY)")
    c.add_argument("--aggregates-only", action="store_true", help="skip the accepted-vs-applied reconciliation")
    r = sub.add_parser("replay-dead", help="publish dead-lettered messages (all, or by message id) again, after a "
                       "fix; idempotent")
    r.add_argument("ids", nargs="*", help="message ids (default: every message in scoring.dead)")
    w = sub.add_parser("wait-ready", help="wait until each URL answers 200")
    w.add_argument("urls", nargs="+")
    w.add_argument("--seconds", type=int, default=90)
    s = sub.add_parser("seed-demo", help="seed a demo county through the survey API (once)")
    s.add_argument("--survey", default="http://127.0.0.1:8001")
    s.add_argument("--key", required=True)
    sub.add_parser("demo-period", help="print the current quarter")
    sub.add_parser("import-enterprises", help="import an enterprise list (.xlsx or .csv) into the survey database; "
                   "all-or-nothing").add_argument("file")
    args = parser.parse_args(argv)

    if args.command == "wait-ready":
        return wait_ready(args.urls, args.seconds)
    if args.command == "seed-demo":
        from manyi.demo import seed
        seed(args.survey, args.key)
        return 0
    if args.command == "demo-period":
        from shared.domain import period_of, utcnow
        print(period_of(utcnow()))
        return 0
    config = config_module.load()
    if args.command == "import-enterprises":
        from manyi.importing import import_enterprises
        return import_enterprises(config, args.file)
    if args.command == "replay-dead":
        from manyi.reconcile import replay_dead
        replay_dead(config, args.ids)
        return 0
    from services.scoring import rescore
    if args.command == "rescore":
        return rescore.rescore(config, args.period)
    status = rescore.check(config, args.period)
    if not args.aggregates_only:
        from manyi.reconcile import check_delivery
        status = 1 if check_delivery(config, args.period) else status
    return status


if __name__ == "__main__":
    sys.exit(main())
