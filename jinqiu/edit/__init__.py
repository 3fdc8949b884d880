"""edit: what changes data files for a person. Takes a spreadsheet, a form or the tree, writes
canonical YAML files (and .xlsx exports).

`importer` and `exporter` (Excel in and out), `fmt` (the one canonical formatting), `newrecord`
(an empty record to fill) and `renewals` (next year's continuing students); `newcity` (a city's own
repository from a questionnaire: init-city, sealed from the start if it says so), `upgrade` (a later
version's code into it) and `migrate` (a clear repository into a new sealed one, its approvals carried
over). Builds on every stage below it.
"""
