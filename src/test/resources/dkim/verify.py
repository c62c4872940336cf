#!/usr/bin/env python3
"""Independent DKIM check for Postroom's tests: verifies every DKIM-Signature of a message with
dkimpy (Debian python3-dkim), looking keys up in the given records instead of DNS.

usage: verify.py MESSAGE_FILE NAME=TXT...   (NAME like sel._domainkey.example.com)
prints one line per signature ("pass d=... s=... a=..." or "fail ...") and exits 0 only when
there is at least one signature and all of them verify; 1 when one fails; 2 on bad usage.
"""
import logging
import sys

import dkim


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        message = f.read()
    records = {}
    for arg in argv[2:]:
        name, _, txt = arg.partition("=")
        records[name.lower().rstrip(".")] = txt.encode("ascii")

    def dnsfunc(name, timeout=5):
        key = name.decode("ascii") if isinstance(name, bytes) else name
        return records.get(key.lower().rstrip("."))

    logger = logging.getLogger("verify")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    d = dkim.DKIM(message, logger=logger, minkey=1024)
    count = len([1 for name, _ in d.headers if name.lower() == b"dkim-signature"])
    if count == 0:
        print("fail no DKIM-Signature")
        return 1
    ok = True
    for idx in range(count):
        try:
            good = d.verify(idx=idx, dnsfunc=dnsfunc)
            reason = ""
        except dkim.DKIMException as e:
            good = False
            reason = " (%s)" % e
        tags = d.signature_fields or {}
        desc = " ".join("%s=%s" % (k, tags.get(k.encode(), b"?").decode())
                        for k in ("d", "s", "a", "c", "h"))
        print(("pass " if good else "fail ") + desc + reason)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
