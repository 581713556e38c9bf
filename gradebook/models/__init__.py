"""Typed SQLAlchemy 2.0 models, one module per aggregate."""

from gradebook.models.assessments import ASSESSMENT_KINDS, Assessment, AssessmentStandard
from gradebook.models.audit import AuditEvent
from gradebook.models.base import Base, utcnow
from gradebook.models.evidence import (
    EVIDENCE_STATUSES,
    Artifact,
    CommentBankEntry,
    Evidence,
    EvidenceRevision,
    FeedbackRead,
    FeedbackReply,
    ReassessmentRequest,
)
from gradebook.models.frameworks import (
    FRAMEWORK_KINDS,
    HABIT_METHODS,
    Competency,
    Crosswalk,
    Framework,
    LevelDescriptor,
)
from gradebook.models.grade_bridge import GradeBridgeChange, GradeBridgeTable
from gradebook.models.habits import HABIT_STATUSES, HabitEvidence, HabitRevision, SectionHabit
from gradebook.models.jobs import JOB_KINDS, JOB_STATUSES, ImportJob, Job
from gradebook.models.paths import (
    ACTIVITY_BANDS,
    ACTIVITY_KINDS,
    ADJUSTMENT_KINDS,
    CHOICE_STATUSES,
    PREREQUISITE_SOURCES,
    READY_STATUSES,
    Activity,
    ActivityAssignment,
    ActivityChoice,
    PathAdjustment,
    PathFocus,
    PathUnit,
    PathUnitStandard,
    Prerequisite,
    ReadyToShow,
    WayToShow,
)
from gradebook.models.portfolio import (
    GOAL_STATUSES,
    VISIBILITIES,
    Comment,
    Goal,
    GoalCompetency,
    GoalStep,
    LearnerProfile,
    Narrative,
    PortfolioEntry,
    PortfolioEntryEvidence,
    PortfolioEntryStandard,
)
from gradebook.models.proficiency import Override, PolicyChange, ProficiencyRecord
from gradebook.models.scale import ProficiencyScale, ScaleLevel
from gradebook.models.school import (
    District,
    Enrollment,
    School,
    SchoolMember,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
)
from gradebook.models.translations import TRANSLATABLE, TextTranslation
from gradebook.models.users import LANGUAGE_NAMES, LANGUAGES, ROLES, GuardianLink, PasswordReset, User

__all__ = [
    "ASSESSMENT_KINDS", "LANGUAGES", "LANGUAGE_NAMES", "TRANSLATABLE", "TextTranslation", "EVIDENCE_STATUSES", "JOB_KINDS", "JOB_STATUSES", "ImportJob", "Job", "GOAL_STATUSES", "ROLES", "VISIBILITIES",
    "Artifact", "Assessment", "AssessmentStandard", "AuditEvent", "Base", "Comment", "CommentBankEntry",
    "Competency", "Crosswalk", "Enrollment", "Evidence", "EvidenceRevision", "FeedbackRead", "FeedbackReply",
    "Framework", "GradeBridgeChange", "GradeBridgeTable", "Goal", "GoalCompetency", "GoalStep", "GuardianLink", "LearnerProfile", "LevelDescriptor",
    "Narrative", "Override", "PasswordReset", "PolicyChange", "PortfolioEntry", "PortfolioEntryEvidence",
    "PortfolioEntryStandard", "ProficiencyRecord", "ProficiencyScale", "ReassessmentRequest", "ScaleLevel",
    "District", "School", "SchoolMember", "Section", "SectionStandard", "SectionTeacher", "Term", "User", "utcnow",
    "ACTIVITY_BANDS", "ACTIVITY_KINDS", "ADJUSTMENT_KINDS", "CHOICE_STATUSES", "PREREQUISITE_SOURCES",
    "READY_STATUSES", "Activity", "ActivityAssignment", "ActivityChoice", "PathAdjustment", "PathFocus",
    "PathUnit", "PathUnitStandard", "Prerequisite", "ReadyToShow", "WayToShow",
    "FRAMEWORK_KINDS", "HABIT_METHODS", "HABIT_STATUSES", "HabitEvidence", "HabitRevision", "SectionHabit",
]
