"""From files to a checked `Programme`: YAML with positions, schema checks, cross-reference checks.

`yaml_source` reads YAML safely with a line and column for every value; `schema_check` checks it
against `schemas/*.schema.json`; `checks/` checks, one topic a module, what a schema cannot
(states that exist, expressions that compile, money that adds up); `loader` turns a checked file
into the frozen `engine.model` types; `docs` writes docs/programme-file.md from the schemas.
May import only the base modules (errors, dates, vocabulary, model, rules): no store, no runtime,
no web.
"""
