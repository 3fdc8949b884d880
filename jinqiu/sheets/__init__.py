"""sheets: the spreadsheet format. Takes .xlsx/.csv bytes, returns rows of typed field values.

Reading a file into rows (`tables`), the columns and their Chinese headers (`columns`), one cell
as a field value (`cells`), and cells that no spreadsheet will evaluate as a formula (`cellsafe`).
Builds on records and check.
"""
