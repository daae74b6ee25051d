"""Evacuation route knowledge and the route planner (pure cores, no Django)."""
