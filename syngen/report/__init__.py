"""The quality and privacy report: real vs synthetic, as one self-contained HTML page."""

from syngen.report.build import ReportResult, report_table, report_tables

__all__ = ["ReportResult", "report_table", "report_tables"]
