"""The balint-cme subcommands, one module each: its arguments (`add_arguments`) beside its
handler (`run`). cli.py imports a module only when its subcommand runs (or --help asks for it),
so `balint-cme --version` and `--help` load none of the edges.
"""
