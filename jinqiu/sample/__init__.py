"""sample: synthetic data to learn and test with. `generate` writes a plainly fictional data tree
(`python3 -m jinqiu.sample OUT`); `demo` replays it as a repository with real signed approvals
made with TEST keys. Builds on every stage below it.
"""
