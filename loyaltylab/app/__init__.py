"""The planner's workbench: ``loyaltylab app``, a local web app (Solara).

Open a shipped or user scenario, or start from a design template; edit its arms and
policies in forms built from the policies' own parameter models; run the experiment in
worker processes with a progress bar (and cancel it); read the headline table, the
targets and the report's charts interactively; compare runs side by side; save the
scenario as a file ``loyaltylab validate`` accepts. One module per concept:

- :mod:`~loyaltylab.app.fields`: form fields from a pydantic model's metadata;
- :mod:`~loyaltylab.app.scenario_file`: a scenario table written back as TOML;
- :mod:`~loyaltylab.app.templates`: design templates and the shipped scenarios;
- :mod:`~loyaltylab.app.validation`: the command line's checks, placed by field;
- :mod:`~loyaltylab.app.jobs`: an experiment in its own processes, with progress and
  cancel;
- :mod:`~loyaltylab.app.charts`: the report's charts as interactive plotly figures;
- :mod:`~loyaltylab.app.compare`: results folders listed and compared;
- :mod:`~loyaltylab.app.pages`: the Solara page (needs the ``app`` extra);
- :mod:`~loyaltylab.app.server`: the local web server of ``loyaltylab app``.
"""
