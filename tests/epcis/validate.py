#!/usr/bin/env python3
"""validate.py SCHEMA DOC...: each DOC against the GS1 EPCIS 2.0 JSON Schema
(draft-07, with format checks where python3-jsonschema has them). Prints one
line per document; exits 1 when one is not valid."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
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
