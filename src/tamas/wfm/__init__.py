"""Workforce management: Erlang C / Erlang A staffing, forecasts, schedules."""
