"""WTForms for the teacher's pages. Choices that depend on the section are filled in by the view."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from gradebook.models import ASSESSMENT_KINDS
from gradebook.models.base import INT32_MAX

KIND_LABELS = {
    "test": "Test", "project": "Project", "performance_task": "Performance task", "observation": "Observation",
    "conversation": "Conversation", "practice": "Practice",
}


def id_number(value: object) -> int:
    """A row id from a form: a whole number a column can hold (ids are INTEGER), else not a choice."""
    number = int(str(value))
    if not 1 <= number <= INT32_MAX:
        raise ValueError(f"{number} is not an id")
    return number


class IdsField(SelectMultipleField):
    """A set of rows chosen by id (standards, competencies): each id once, and only ids a row can have; anything
    else is "not a valid choice" (422), never a query with a number the database cannot take."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["coerce"] = id_number
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(list(dict.fromkeys(valuelist)))


class MultiCheckboxField(IdsField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def not_in_future(_form: FlaskForm, field: DateField) -> None:
    if field.data and field.data > date.today() + timedelta(days=366):
        raise ValidationError("That date is more than a year away.")
    if field.data and field.data < date(2000, 1, 1):
        raise ValidationError("That date is too far in the past.")


class AssessmentForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the assessment a title."), Length(max=200)])
    kind = SelectField("Kind", choices=[SelectChoice(k, KIND_LABELS[k]) for k in ASSESSMENT_KINDS])
    assessed_on = DateField("Date", validators=[DataRequired("Give a valid date."), not_in_future])
    standards = MultiCheckboxField("Standards it assesses",
                                   validators=[DataRequired("Choose at least one standard.")])
    counts = BooleanField("Counts toward proficiency", default=True)
    description = TextAreaField("Notes (optional)", validators=[Optional(), Length(max=2000)])


class ObservationForm(FlaskForm):
    value = StringField("Score or state", validators=[DataRequired("Type a score, or M, E or N."), Length(max=20)])
    observed_on = DateField("Observed on", validators=[DataRequired("Give a valid date.")])
    feedback = TextAreaField("Feedback (optional)", validators=[Optional(), Length(max=5000)])
    is_reassessment = BooleanField("This is a reassessment")


class HabitObservationForm(FlaskForm):
    """One observation of a habit of work, from the grid's panel (choices: the habit's levels, M, L, E)."""

    value = SelectField("Level or mark", coerce=str, validators=[DataRequired("Choose a level or a mark.")])
    observed_on = DateField("Observed on", validators=[DataRequired("Give a valid date.")])
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class OverrideForm(FlaskForm):
    level = SelectField("Level", coerce=str)
    reason = TextAreaField("Reason (families see it)", validators=[Optional(), Length(max=1000)])
