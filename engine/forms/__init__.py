"""Answers and forms built from the model, with no I/O and no Flask.

`answers` checks and converts what a person typed against a form's questions (the one place
those rules live); `classes` builds WTForms classes from the same questions for the web app;
`visibility` leaves out of a form's answers those a role may not see.
May import only the base modules (errors, dates, vocabulary, model, rules).
"""
