#!/usr/bin/env python3
"""validate.py SCHEMA DOC...: each DOC against the GS1 EPCIS 2.0 JSON Schema
(draft-07, with format checks where python3-jsonschema has them). Prints one
line per document; exits 1 when one is not valid."""
import json
import re
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
# certificationInfo is an attribute of every event in EPCIS 2.0 (the
# standard's event table and its JSON-LD context) and the name export writes;
# this version of the schema lists no such name, so it is added to the names
# common to all events here, and to nothing else.
common = schema["definitions"]["common-event-properties"]["anyOf"][0]["enum"]
if "certificationInfo" not in common:
    common.append("certificationInfo")
checker = jsonschema.FormatChecker()
# The formats the schema uses, checked whatever optional modules this
# python3-jsonschema has: a URI has a scheme (RFC 3986), a date-time is
# RFC 3339.
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
if "uri" not in checker.checkers:
    checker.checks("uri")(lambda s: not isinstance(s, str) or bool(URI.match(s)))
if "date-time" not in checker.checkers:
    checker.checks("date-time")(lambda s: not isinstance(s, str) or bool(DATE_TIME.match(s)))
validator = jsonschema.Draft7Validator(schema, format_checker=checker)
bad = 0
for path in sys.argv[2:]:
    doc = json.load(open(path))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        bad += 1
        for e in errors[:5]:
            print("%s: invalid at %s: %s" % (path, "/".join(map(str, e.path)), e.message))
    else:
        print("%s: valid (%d events)" % (path, len(doc["epcisBody"]["eventList"])))
sys.exit(1 if bad else 0)
