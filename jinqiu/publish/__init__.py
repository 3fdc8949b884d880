"""publish: the outputs. Takes the validated Dataset and verified statuses, writes site/ (public, no
personal data) and private/ (forms, PDFs, statistics).

`pipeline.build` runs the whole job (skipped when nothing changed: `buildmemo`; after a change it
reads only what the change can affect, from the records kept between builds: `incremental`); `asof` cuts the
data at a past day, `timeline` the campaign over time; `statistics` the 16-item table, `disclosure`
suppresses small cells; `site` and `charts` write the pages, `privacy` scans every file of the
site (`renderings`: every way a digit or a name is written); `forms`, `printing` and `browser` print the official attachments. Builds on records, check,
trust and sheets.
"""
