"""The runtime half of the CLI's commands, one module per command: ``describe`` (``nasc compile``'s
report), ``train``, ``search``, ``export`` and ``predict``; ``dataset`` and ``common`` hold what
several of them share."""
