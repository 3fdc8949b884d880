"""check: is each record what the forms and the notice allow? Takes a Dataset, returns [Problem].

The JSON Schema (`schemacheck`), the rules of one record (`rules`) and of several (`crossrules`),
the union tree (`unitref`), the city's own conventions from it (`city`: area codes, examples, place
name), ID numbers and phones (`ids`), one identity per person (`identity`: the canonical form of a
name or an ID number, what a name may hold), the safe Markdown subset of the notice text (`safemd`), and `validate`, which runs them file by file with a cache (`cache`). Builds on
records.
"""
