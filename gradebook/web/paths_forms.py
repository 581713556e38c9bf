"""WTForms for the teacher's learning-path pages. Choices that depend on the section are filled in by the view;
the rules (dates, a standard in one unit, cycles, links) are the service's, whose messages land on the field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from gradebook.models import ACTIVITY_BANDS, ACTIVITY_KINDS
from gradebook.services import ServiceError
from gradebook.services.paths import BAND_LABELS, KIND_LABELS
from gradebook.web.forms import MultiCheckboxField, id_number


def apply_error(form: FlaskForm, error: ServiceError, fallback: str) -> None:
    """Put a service's message on the field it names (or on ``fallback``), so the page shows it in place."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        target = getattr(form, fallback)
    if not isinstance(target.errors, list):
        target.errors = list(target.errors)
    target.errors.append(error.message)


class UnitForm(FlaskForm):
    title = StringField("Unit title", validators=[DataRequired("Give the unit a title."), Length(max=200)])
    starts_on = DateField("Starts", validators=[InputRequired("Give the date the unit starts.")])
    target_on = DateField("Target date", validators=[InputRequired("Give the unit's target date.")])
    standards = MultiCheckboxField("Standards in this unit", coerce=id_number,
                                   validators=[DataRequired("Choose at least one standard for the unit.")])
    version = HiddenField()


def int_or_none(value: object) -> int | None:
    """A select's value: a blank "Choose…" option is None (the field's DataRequired then says what to do)."""
    if value in (None, ""):
        return None
    return id_number(value)


class PrerequisiteForm(FlaskForm):
    competency_id = SelectField("This standard", coerce=int_or_none,
                                validators=[DataRequired("Choose the standard that needs a prerequisite.")])
    requires_id = SelectField("needs first", coerce=int_or_none,
                              validators=[DataRequired("Choose what it needs first.")])


class ActivityForm(FlaskForm):
    competency_id = HiddenField()
    title = StringField("Title", validators=[DataRequired("Give the activity a title."), Length(max=200)])
    instructions = TextAreaField("What to do", validators=[Optional(), Length(max=5000)])
    url = StringField("Link (http or https)", validators=[Optional(), Length(max=2000)])
    file = FileField("Or attach a file (photo, PDF, sound or video)")
    remove_file = BooleanField("Remove the attached file")
    kind = SelectField("Kind", choices=[SelectChoice(k, KIND_LABELS[k]) for k in ACTIVITY_KINDS], default="practice")
    minutes = IntegerField("About how long (minutes)", validators=[
        Optional(), NumberRange(1, 600, "About how long: between 1 and 600 minutes.")])
    band = SelectField("Suits", choices=[SelectChoice(b, BAND_LABELS[b]) for b in ACTIVITY_BANDS],
                       default="to_mastery")
    for_home = BooleanField("Suits home (families see it as “how you can help”)")
    interest_tags = StringField("Interest tags (optional, comma-separated)", validators=[Optional(), Length(max=300)])
    version = HiddenField()


class CopyPlaylistForm(FlaskForm):
    from_section = SelectField("Copy from", coerce=id_number, validators=[InputRequired("Choose a section.")])


class WayForm(FlaskForm):
    competency_id = HiddenField()
    title = StringField("Way to show", validators=[DataRequired("Name the way (Test, Project, Video …)."),
                                                   Length(max=120)])
    description = StringField("What it involves (optional)", validators=[Optional(), Length(max=500)])


class TargetDateForm(FlaskForm):
    unit_id = SelectField("Unit", coerce=id_number, validators=[InputRequired("Choose a unit.")])
    target_on = DateField("Their own target date", validators=[InputRequired("Give the date.")])
    reason = StringField("Reason", validators=[DataRequired("Give a reason (an accommodation, an absence …)."),
                                               Length(max=300)])


class LeaveOutForm(FlaskForm):
    competency_id = SelectField("Standard", coerce=id_number, validators=[InputRequired("Choose a standard.")])
    reason = StringField("Reason", validators=[DataRequired("Give a reason (a skill shown elsewhere, an "
                                                            "accommodation …)."), Length(max=300)])


class AssignForm(FlaskForm):
    students = MultiCheckboxField("Students", coerce=id_number, validators=[DataRequired("Choose at least one student.")])
    activities = MultiCheckboxField("Activities", coerce=id_number, validators=[Optional()])
    competency_id = HiddenField()
    whole = HiddenField()
    note = StringField("Note for the student (optional)", validators=[Optional(), Length(max=300)])


class ScoreForm(FlaskForm):
    value = StringField("Score or state", validators=[DataRequired("Type a score, or M, E or N."), Length(max=20)])
    observed_on = DateField("Observed on", validators=[InputRequired("Give a valid date.")])
    feedback = TextAreaField("Feedback (optional)", validators=[Optional(), Length(max=5000)])
