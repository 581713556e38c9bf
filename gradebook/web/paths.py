"""Learning paths: the blueprint shared by the teacher pages (paths_teacher.py) and the student pages
(paths_student.py)."""
from flask import Blueprint

bp = Blueprint("paths", __name__)
