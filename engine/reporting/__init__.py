"""What commissioners read: KPIs, meeting packs, demographics, charts and exports.

`kpis` (with `kpi_filters` and `trends`) computes each programme's KPIs per period; `meetings`
builds meeting packs; `demographics` counts the people reached; `charts` draws SVG; `export`
writes 360Giving and CSV. Reads through the store and the model. May import the store, forms,
timeline and the base modules; never runtime, web or CLI.
"""
