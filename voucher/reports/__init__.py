"""Reports: one module of queries per report (funds, fsc, statement, siuss), all figures
aggregated by the database, and pure renderers (CSV, XLSX, PDF, SIUSS XML) in `render`."""
