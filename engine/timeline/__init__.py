"""When things happen: occasions of a programme's milestones and reviews, reminder plans, iCalendar.

`occasions` works out dates from a programme's milestones, cadences and anchors; `planner` turns
them into the reminder rows the store keeps for each case; `ical` writes the timeline as
iCalendar. Pure computation on the model: no store, no I/O. May import only the base modules.
"""
