#!/usr/bin/env python3
"""Offline cross-check: every canonical fixture under Tests/NormalizeTests/Fixtures/canonical/valid
must satisfy canonical-event.schema.json, every one under .../invalid must violate it, and every
normalized event in the vendor golden files (*.expected.json) must satisfy it.

The Swift test suite (SchemaAgreementTests) checks that the Swift validator accepts/rejects the
same files, so together they prove schema and code agree. Needs `pip install jsonschema`; CI does
not run this (it must not depend on Python) -- run it after changing the schema or the fixtures.
"""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(__file__).resolve().parents[2]
schema = json.loads((root / "topics/schemas/canonical-event.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
fixtures = root / "Tests/NormalizeTests/Fixtures/canonical"
failures = 0
for expected_valid, folder in ((True, "valid"), (False, "invalid")):
    for path in sorted((fixtures / folder).glob("*.json")):
        errors = list(validator.iter_errors(json.loads(path.read_text())))
        ok = not errors
        if ok != expected_valid:
            failures += 1
            why = errors[0].message if errors else "no schema error"
            print(f"MISMATCH {folder}/{path.name}: {why}")
        else:
            print(f"ok       {folder}/{path.name}" + (f"  ({errors[0].message[:70]})" if errors else ""))
# Normalized output must itself be a valid canonical envelope (the golden files of every vendor).
for path in sorted(fixtures.parent.glob("*/*.expected.json")):
    for index, normalized in enumerate(json.loads(path.read_text())):
        errors = list(validator.iter_errors(normalized["event"]))
        if errors:
            failures += 1
            print(f"MISMATCH {path.parent.name}/{path.name}[{index}]: {errors[0].message}")
    print(f"ok       {path.parent.name}/{path.name} (normalized output)")
sys.exit(1 if failures else 0)
