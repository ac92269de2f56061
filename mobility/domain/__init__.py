"""The domain vocabulary shared by the loaders and the planner: service categories, OSM opening hours,
French public holidays and the normalisation of names for matching. Imports nothing above ``mobility.errors``."""
