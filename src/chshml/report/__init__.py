"""The study's report: our tables beside the paper's, figures, volumes (matplotlib, Agg)."""
