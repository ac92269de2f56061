"""Message catalogs: ``python scripts/i18n.py check`` lists the keys used in the sources but missing or
untranslated in mobility/locale/<lang>/LC_MESSAGES/mobility.po; ``compile`` writes the .mo files the
application reads (run it after editing a .po; the tests fail on a stale .mo); ``add KEY FR EN`` puts one
message in both catalogs and compiles them."""

import sys

from mobility import i18n_tools


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "check"
    if cmd == "compile":
        for path in i18n_tools.compile_all():
            print(f"wrote {path}")
        return 0
    if cmd == "add" and len(argv) == 4:  # add KEY "French sentence" "English sentence"
        i18n_tools.add({argv[1]: {"fr": argv[2], "en": argv[3]}})
        print(f"added {argv[1]}")
        return 0
    if cmd == "check":
        problems = i18n_tools.check()
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
