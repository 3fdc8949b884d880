"""trust: who approved what, proved from the repository alone. Takes a Dataset and its git history,
returns {record: Status} and [Problem].

The root of trust and the walk over the trust data (`anchor`), the reviewer registry (`registry`),
signatures (`sshsig`), the history reader (`gitlog`), the approval digest (`digest`), forge reviews
(`forge`); `verify` puts the proof together from `versions` (which commit brought each entry, what
was removed), `signatures` (who signed it) and `chain` (levels, order, content, payout), and
`status` derives where each application stands. The reviewer's side: `approve`, the pull-request
scope and summary (`prscope`, `prsummary`), `codeowners`, and the sample's `testkeys`; who can read a sealed union-year (`keyring`);
approvals carried over from a clear repository into a sealed one, through an administrator-signed map
(`carry`). Builds on records and check.
"""
