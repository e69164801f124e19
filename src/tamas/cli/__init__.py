"""The ``tamas`` command line (``tamas.cli.main:main``)."""
