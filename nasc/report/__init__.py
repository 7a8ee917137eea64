"""Pictures and report.md of a spec or a search run (`nasc show`, and the end of every search).

Everything here imports matplotlib lazily (``canvas.pyplot``), so the compiler's front end and
`nasc compile`/`nasc fmt` never load it.
"""
