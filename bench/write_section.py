#!/usr/bin/env python3
"""Replaces (or appends) one named section of a results file with the text on stdin.

Usage: write_section.py FILE NAME < text
The section is kept between <!-- section:NAME --> and <!-- /section:NAME --> markers, so that several scripts
(bench/spec_figures.sh, bench/isa_figures.sh) share bench/RESULTS.md and bench/results.sh keeps theirs.
"""
import os
import re
import sys

path, name = sys.argv[1], sys.argv[2]
section = f"<!-- section:{name} -->\n" + sys.stdin.read().rstrip("\n") + f"\n<!-- /section:{name} -->\n"
text = open(path).read() if os.path.exists(path) else ""
pattern = re.compile(rf"<!-- section:{name} -->.*?<!-- /section:{name} -->\n?", re.S)
if pattern.search(text):
    text = pattern.sub(lambda m: section, text)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
