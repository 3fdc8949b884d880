"""records: the data tree as files. Takes paths under data/, returns typed records (and back).

The strict YAML reader (`yamlstrict`: every value keeps the text typed, the schema decides what is a
number), the one canonical writer (`yamlwrite`), where each kind of record lives (`layout`) and the
whole tree read at once (`dataset`); personal values sealed at rest (`sealed`, the jq1 envelope).
Depends on nothing of Jinqiu but `problems`.
"""
