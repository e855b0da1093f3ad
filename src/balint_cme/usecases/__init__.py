"""The use cases, one module each, as the command and the web app run them.

Glue above the edges (io, certificates, ledger), below the command line and the web app:
each function takes its time, key, ledger and actor as arguments. `certify` issues
certificates (from the plan `certify_plan` makes; its results in `certify_results`),
`credits` reads the evidence and awards credit, `verify` answers whether a certificate is
genuine, `history` gives a person's transcript series, `pars_export` writes the ACCME file;
`on_record` reads back what the ledger holds, `presentation` formats results and
`publishing` manages certify's output folder.
"""
