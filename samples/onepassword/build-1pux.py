#!/usr/bin/env python3
"""Builds samples/onepassword/company.1pux from the readable sources in
samples/onepassword/company-1pux/ (export.attributes, export.data, files/).

The zip is deterministic (fixed member order and timestamps, deflate), so
re-running it on unchanged sources gives the same bytes and a clean git diff.

    python3 samples/onepassword/build-1pux.py
"""
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "company-1pux")
OUT = os.path.join(HERE, "company.1pux")
STAMP = (2025, 3, 2, 9, 30, 0)


def members():
    yield "export.attributes"
    yield "export.data"
    for name in sorted(os.listdir(os.path.join(SRC, "files"))):
        yield "files/" + name


def main():
    with zipfile.ZipFile(OUT, "w") as z:
        for name in members():
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(SRC, name), "rb") as f:
                z.writestr(info, f.read())
    print(OUT)


if __name__ == "__main__":
    main()
