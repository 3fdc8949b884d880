"""Jinqiu: a trade union's 金秋助学 and 阳光就业 campaign kept in a Git repository."""

__version__ = "0.1.0"
