"""The demo school: deterministic, realistic enough that every screen shows real-looking data.

Riverside Middle School: an admin, three teachers, four sections in the fall term, 90 students
(each with one or two guardians; ten families have two children here), two frameworks written for
this project (25 standards with level descriptors), and six weeks of evidence with feedback,
including missing, excused and not-yet states.

Not a use case: nothing imports this module but the CLI (`flask gradebook seed-demo`) and tests.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.models import (
    Assessment,
    AssessmentStandard,
    Competency,
    District,
    Enrollment,
    Evidence,
    EvidenceRevision,
    FeedbackReply,
    Framework,
    Goal,
    GoalCompetency,
    GoalStep,
    GuardianLink,
    LearnerProfile,
    LevelDescriptor,
    Narrative,
    Override,
    PortfolioEntry,
    PortfolioEntryStandard,
    ReassessmentRequest,
    ScaleLevel,
    School,
    SchoolMember,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
    TextTranslation,
    User,
    utcnow,
)
from gradebook.services.accounts import create_user, hash_password
from gradebook.services.proficiency import default_scale_row

DEMO_PASSWORD = "gradebook-demo"
SPANISH_FAMILY = 2  # the student whose family reads the pages in Spanish
DEMO_DOMAIN = "riverside.example"


# (code, short name, statement); inner nodes have children listed after them.
SCIENCE = [
    ("SCI.7.1", "Scientific inquiry", "Study the world the way scientists do.", [
        ("SCI.7.1.a", "Testable questions", "Ask questions about nature that a test can answer."),
        ("SCI.7.1.b", "Investigations", "Plan and do a fair test."),
        ("SCI.7.1.c", "Data analysis", "Read data and find patterns in it."),
        ("SCI.7.1.d", "Explanations", "Explain what happened, and back it up with facts."),
    ]),
    ("SCI.7.2", "Matter and its interactions", "Understand what matter is made of and how it changes.", [
        ("SCI.7.2.a", "Atoms and molecules", "Show with a model how atoms join to make molecules."),
        ("SCI.7.2.b", "Chemical changes", "Tell a physical change from a chemical change, and say how you know."),
        ("SCI.7.2.c", "Conservation of mass", "Explain why mass stays the same in a chemical reaction."),
    ]),
    ("SCI.7.3", "Ecosystems", "Know how living things need each other and the world around them.", [
        ("SCI.7.3.a", "Food webs", "Trace the flow of energy through a food web."),
        ("SCI.7.3.b", "Cycling of matter", "Tell how matter moves between living and nonliving things."),
        ("SCI.7.3.c", "Human impact", "Judge ways to cut the harm people do to an ecosystem."),
    ]),
    ("SCI.7.4", "Communicating science", "Share science ideas clearly and back them up.", [
        ("SCI.7.4.a", "Argument from evidence", "Back up a claim with facts and reasons."),
        ("SCI.7.4.b", "Presenting findings", "Present what you found clearly to a group."),
    ]),
]

MATH = [
    ("MA.7.RP", "Ratios and proportional reasoning", "Use ratios to solve real problems.", [
        ("MA.7.RP.1", "Unit rates", "Find unit rates, also with fractions."),
        ("MA.7.RP.2", "Proportional relationships", "Spot and show when two amounts grow at the same rate."),
        ("MA.7.RP.3", "Percent problems", "Solve ratio and percent problems that take a few steps."),
    ]),
    ("MA.7.EE", "Expressions and equations", "Write, simplify and solve expressions and equations.", [
        ("MA.7.EE.1", "Equivalent expressions", "Make expressions like 3x + 2x shorter, or write them a new way."),
        ("MA.7.EE.2", "Two-step equations", "Solve two-step equations and check the answer."),
        ("MA.7.EE.3", "Inequalities", "Solve and graph two-step inequalities."),
    ]),
    ("MA.7.G", "Geometry", "Think about shapes, scale and measures.", [
        ("MA.7.G.1", "Scale drawings", "Solve problems involving scale drawings."),
        ("MA.7.G.2", "Circles", "Find the area and circumference of a circle."),
        ("MA.7.G.3", "Angle relationships", "Use what you know about angles to find a missing one."),
    ]),
    ("MA.7.SP", "Statistics and probability", "Draw conclusions from data and chance.", [
        ("MA.7.SP.1", "Random sampling", "Use a random sample to learn about a whole group."),
        ("MA.7.SP.2", "Comparing populations", "Compare two groups by their middle and their spread."),
        ("MA.7.SP.3", "Probability models", "Make and use models of chance."),
    ]),
    ("MA.7.MP", "Mathematical practices", "Think and work like a mathematician.", [
        ("MA.7.MP.1", "Perseverance", "Make sense of problems and keep going until they are solved."),
    ]),
]

FIRST = ["Maya", "Liam", "Sofia", "Noah", "Aisha", "Ethan", "Zara", "Lucas", "Priya", "Mateo", "Hana", "Owen",
         "Leila", "Caleb", "Nia", "Diego", "Emma", "Kofi", "Ava", "Ravi", "Chloe", "Jonah", "Amara", "Felix",
         "Isla", "Tariq", "Grace", "Ben", "Yuki", "Omar"]
LAST = ["Johnson", "Nguyen", "Garcia", "Okoro", "Smith", "Patel", "Kim", "Rossi", "Haddad", "Brown",
        "Silva", "Cohen", "Mensah", "Dubois", "Lopez", "Ahmed", "Walsh", "Tanaka", "Novak", "Reid",
        "Costa", "Ivanova", "Bello", "Moreau", "Singh", "Larsen", "Owens", "Park", "Diaz", "Ali"]
GUARDIAN_FIRST = ["Sarah", "David", "Maria", "James", "Fatima", "Michael", "Elena", "Robert", "Mei", "Carlos",
                  "Anna", "Samuel", "Grace", "Ahmed", "Laura"]

FEEDBACK = {
    1: ["Let's revisit this together: start with the worked example on page 2, then try the first two again.",
        "You have started well. Next step: label each part of your answer before you solve it."],
    2: ["You are close. Check each step against the success criteria before you hand it in.",
        "Good reasoning in places; next time, back each claim with a piece of data from your table.",
        "Nearly there: explain why, not only what, in your final answer."],
    3: ["Solid work: accurate and clear. To go further, try applying this to a new situation.",
        "You showed you can do this on your own. Nice use of evidence.",
        "Clear and correct. Next step: compare two methods and say which you'd pick."],
    4: ["Excellent: you extended the idea to a new case without prompting.",
        "Outstanding explanation; you connected this to what we learned earlier."],
}

TEACHERS = [
    ("okafor", "Amara Okafor"),
    ("reyes", "Daniel Reyes"),
    ("natarajan", "Priya Natarajan"),
]


def demo_exists(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.email == f"admin@{DEMO_DOMAIN}")) is not None


def _descriptors(statement: str) -> dict[int, str]:
    """What each level looks like, in words a family reads (the statement says the skill; these say how well).
    The next step shows the next level's descriptor as something to do ("Do this on your own …")."""
    return {
        4: "Uses this skill in new problems, without being asked.",
        3: "Does this on their own and gets it right.",
        2: "Does this with some help; a few mistakes are left.",
        1: "Starts this with close help.",
    }


# The demo school's Spanish: what a school enters on the scale page and each competency's page.
SPANISH_DESCRIPTORS = {
    4: "Usa esta destreza en problemas nuevos, sin que se lo pidan.",
    3: "Lo hace por su cuenta y le sale bien.",
    2: "Lo hace con algo de ayuda; quedan unos pocos errores.",
    1: "Empieza con mucha ayuda.",
}
SPANISH_LEVELS = {  # English label: (label, description)
    "Exceeds": ("Supera", "Va más allá: lo usa en casos nuevos por su cuenta."),
    "Meets": ("Cumple", "Lo domina: lo hace bien y por su cuenta."),
    "Approaching": ("Se acerca", "Va por buen camino: lo hace con algo de ayuda; quedan unos huecos."),
    "Beginning": ("Empieza", "Está empezando: hace partes con mucha ayuda."),
}
SPANISH = {  # code: (short name, statement)
    "SCI.7.1": ("Investigar", "Estudiar el mundo natural como lo hacen los científicos."),
    "SCI.7.1.a": ("Preguntas que se pueden probar", "Hacer preguntas sobre la naturaleza que se puedan poner a prueba."),
    "SCI.7.1.b": ("Experimentos", "Planear y hacer un experimento justo."),
    "SCI.7.1.c": ("Leer datos", "Leer los datos y buscar patrones."),
    "SCI.7.1.d": ("Explicaciones", "Dar explicaciones con pruebas."),
    "SCI.7.2": ("La materia y sus cambios", "Saber de qué está hecha la materia y cómo cambia."),
    "SCI.7.2.a": ("Átomos y moléculas", "Mostrar con un modelo cómo los átomos se unen en moléculas."),
    "SCI.7.2.b": ("Cambios químicos", "Saber si un cambio es físico o químico, con pruebas."),
    "SCI.7.2.c": ("La masa se conserva", "Explicar por qué la masa no cambia en una reacción química."),
    "SCI.7.3": ("Ecosistemas", "Saber cómo los seres vivos dependen unos de otros y de su medio."),
    "SCI.7.3.a": ("Redes de comida", "Seguir el paso de la energía por una red de comida."),
    "SCI.7.3.b": ("El ciclo de la materia", "Decir cómo pasa la materia entre lo vivo y lo no vivo."),
    "SCI.7.3.c": ("Lo que hacemos al medio", "Pensar en ideas que cuiden mejor un ecosistema."),
    "SCI.7.4": ("Hablar de ciencia", "Contar ideas de ciencia con claridad y con pruebas."),
    "SCI.7.4.a": ("Defender una idea", "Defender una idea con pruebas y razones."),
    "SCI.7.4.b": ("Presentar lo que se halló", "Presentar lo que halló con claridad a un público."),
    "MA.7.RP": ("Razones y proporciones", "Usar razones y proporciones para resolver problemas reales."),
    "MA.7.RP.1": ("Precio por unidad", "Hallar cuánto vale una unidad, también con fracciones."),
    "MA.7.RP.2": ("Proporciones", "Ver y mostrar cuándo dos cantidades van en proporción."),
    "MA.7.RP.3": ("Porcentajes", "Resolver problemas de razones y porcentajes de varios pasos."),
    "MA.7.EE": ("Expresiones y ecuaciones", "Escribir, simplificar y resolver expresiones y ecuaciones."),
    "MA.7.EE.1": ("Expresiones iguales", "Simplificar y volver a escribir expresiones."),
    "MA.7.EE.2": ("Ecuaciones de dos pasos", "Resolver ecuaciones de dos pasos y comprobar la respuesta."),
    "MA.7.EE.3": ("Desigualdades", "Resolver y dibujar desigualdades de dos pasos."),
    "MA.7.G": ("Geometría", "Pensar sobre formas, escalas y medidas."),
    "MA.7.G.1": ("Dibujos a escala", "Resolver problemas con dibujos a escala."),
    "MA.7.G.2": ("Círculos", "Hallar el área y el borde de un círculo."),
    "MA.7.G.3": ("Ángulos", "Usar lo que se sabe de los ángulos para hallar uno que falta."),
    "MA.7.SP": ("Datos y azar", "Sacar ideas de los datos y del azar."),
    "MA.7.SP.1": ("Muestras al azar", "Usar muestras al azar para decir algo de un grupo grande."),
    "MA.7.SP.2": ("Comparar grupos", "Comparar dos grupos con su centro y cuánto varían."),
    "MA.7.SP.3": ("Modelos de azar", "Hacer y usar modelos de probabilidad."),
    "MA.7.MP": ("Pensar como en mates", "Pensar y trabajar como lo hace un matemático."),
    "MA.7.MP.1": ("No rendirse", "Entender los problemas y seguir hasta resolverlos."),
}


def _framework(session: Session, title: str, subject: str, tree: list) -> list[Competency]:
    framework = Framework(title=title, subject=subject, publisher="Riverside Middle School", version="2026",
                          source="authored", identifier=f"demo-{subject.lower()}")
    session.add(framework)
    session.flush()
    standards: list[Competency] = []
    for position, (code, short, statement, children) in enumerate(tree):
        parent = Competency(framework_id=framework.id, code=code, short_name=short, statement=statement,
                            position=position, identifier=f"demo-{code}")
        session.add(parent)
        session.flush()
        for child_position, (child_code, child_short, child_statement) in enumerate(children):
            child = Competency(framework_id=framework.id, parent_id=parent.id, code=child_code,
                               short_name=child_short, statement=child_statement, position=child_position,
                               identifier=f"demo-{child_code}")
            session.add(child)
            session.flush()
            for points, text in _descriptors(child_statement).items():
                descriptor = LevelDescriptor(competency_id=child.id, points=points, description=text)
                session.add(descriptor)
                session.flush()
                _spanish(session, "level_descriptors", descriptor.id, description=SPANISH_DESCRIPTORS[points])
            standards.append(child)
    for competency in session.scalars(select(Competency).where(Competency.framework_id == framework.id)):
        short, statement = SPANISH[competency.code]
        _spanish(session, "competencies", competency.id, short_name=short, statement=statement)
    return standards


def _spanish(session: Session, table: str, row_id: int, **fields: str) -> None:
    for field, text in fields.items():
        session.add(TextTranslation(table_name=table, row_id=row_id, field=field, language="es", text=text))


def seed_demo(session: Session, *, seed: int = 2026) -> list[tuple[str, str, str]]:
    """Build the demo school; return (role, email, who) for the README and the console."""
    if demo_exists(session):
        return _logins(session)
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)

    scale = default_scale_row(session)
    for level in session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id == scale.id)):
        if level.label in SPANISH_LEVELS:
            label, description = SPANISH_LEVELS[level.label]
            _spanish(session, "scale_levels", level.id, label=label, description=description)
    school = School(name="Riverside Middle School", default_scale_id=scale.id,
                    default_policy={"method": "decaying_average", "weight": 0.65, "n": 2, "min_evidence": 2,
                                    "rollup": "average", "kind_weights": {}})
    session.add(school)
    # The district's defaults: the same (a school added later follows them until it sets its own).
    session.add(District(name="Riverside Unified", default_scale_id=scale.id, default_policy=dict(school.default_policy)))
    session.flush()

    def account(email: str, name: str, role: str, grade: str | None = None) -> User:
        user = create_user(session, email=email, name=name, role=role, grade_level=grade)
        user.password_hash = password_hash
        return user

    admin = account(f"admin@{DEMO_DOMAIN}", "Jordan Blake", "admin")
    admin.district_admin = True
    teachers = [account(f"{login}@{DEMO_DOMAIN}", name, "teacher") for login, name in TEACHERS]

    students: list[User] = []
    for i in range(90):
        first, last = FIRST[i % 30], LAST[(i * 7 + i // 30) % 30]
        if 45 <= i < 55:  # a younger sibling of student i - 45 (same family, same family name)
            last = students[i - 45].name.split(" ")[1]
        email = f"{first.lower()}.{last.lower()}{i // 30 or ''}@students.{DEMO_DOMAIN}"
        students.append(account(email, f"{first} {last}", "student", "7"))

    guardians: list[User] = []
    for i, student in enumerate(students):
        if 45 <= i < 55:  # siblings of students 0-9: same family
            sibling_guardians = [g for g in guardians if _is_guardian_of(session, g, students[i - 45])]
            for guardian in sibling_guardians:
                session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id, relationship_label="parent"))
            continue
        last = student.name.split(" ")[1]
        count = 2 if i % 3 == 0 else 1
        for k in range(count):
            first = GUARDIAN_FIRST[(i * 2 + k) % len(GUARDIAN_FIRST)]
            guardian = account(f"{first.lower()}.{last.lower()}{i}@family.{DEMO_DOMAIN}", f"{first} {last}", "guardian")
            guardians.append(guardian)
            session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id, relationship_label="parent"))
            session.flush()

    for link in session.scalars(select(GuardianLink).where(GuardianLink.student_id == students[SPANISH_FAMILY].id)):
        session.get(User, link.guardian_id).language = "es"  # type: ignore[union-attr]
    term = Term(name="Fall 2026", starts_on=date(2026, 8, 31), ends_on=date(2026, 12, 18), school_id=school.id)
    session.add(term)
    session.flush()
    for user_id in session.scalars(select(User.id).where(User.role != "admin")):  # everyone is Riverside's
        session.add(SchoolMember(user_id=user_id, school_id=school.id))
    science = _framework(session, "Riverside Science Practices, Grade 7", "Science", SCIENCE)
    math = _framework(session, "Riverside Mathematics, Grade 7", "Math", MATH)
    session.flush()

    plan = [
        # (name, code, subject, teacher, roster, standards, how far the class started ahead of the others)
        ("Science 7 · Period 1", "SCI7-P1", "Science", teachers[0], students[0:30], science, 0.0),
        ("Science 7 · Period 3", "SCI7-P3", "Science", teachers[0], students[30:60], science, 0.2),
        ("Math 7 · Period 2", "MA7-P2", "Math", teachers[1], students[50:90], math, 0.0),
        ("Math 7 · Period 4", "MA7-P4", "Math", teachers[2], students[0:40], math, 0.0),
    ]
    # A second, small school, so the district view shows something: Hillside Elementary (its own admin, a
    # teacher and one class of 12; it follows the district's scale and policy). Riverside is as before.
    hillside = School(name="Hillside Elementary", default_policy={})
    session.add(hillside)
    session.flush()
    account(f"hillside.admin@{DEMO_DOMAIN}", "Casey Moreno", "admin")
    hillside_teacher = account(f"m.ellis@{DEMO_DOMAIN}", "Morgan Ellis", "teacher")
    hillside_students = [account(f"{FIRST[(i * 5 + 3) % 30].lower()}.{LAST[(i * 11 + 4) % 30].lower()}"
                                 f"@hillside.{DEMO_DOMAIN}",
                                 f"{FIRST[(i * 5 + 3) % 30]} {LAST[(i * 11 + 4) % 30]}", "student", "6")
                         for i in range(12)]
    for i, student in enumerate(hillside_students):
        first = GUARDIAN_FIRST[(i * 3 + 1) % len(GUARDIAN_FIRST)]
        last = student.name.split(" ")[1]
        guardian = account(f"{first.lower()}.{last.lower()}{i}@family.hillside.{DEMO_DOMAIN}", f"{first} {last}",
                           "guardian")
        session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id, relationship_label="parent"))
    hillside_term = Term(name="Fall 2026", starts_on=date(2026, 8, 31), ends_on=date(2026, 12, 18),
                         school_id=hillside.id)
    session.add(hillside_term)
    session.flush()
    for user_id in session.scalars(select(User.id).where(User.email.like(f"%hillside.{DEMO_DOMAIN}")
                                                         | User.email.in_([f"hillside.admin@{DEMO_DOMAIN}",
                                                                           f"m.ellis@{DEMO_DOMAIN}"]))):
        session.add(SchoolMember(user_id=user_id, school_id=hillside.id))
    plan.append(("Science 6 · Hillside", "HS-SCI6", "Science", hillside_teacher, hillside_students, science, 0.1))
    home = {"Science 6 · Hillside": (hillside, hillside_term)}

    sections = []
    for name, code, subject, teacher, roster, standards, head_start in plan:
        section_school, section_term = home.get(name, (school, term))
        section = Section(term_id=section_term.id, school_id=section_school.id, name=name, code=code,
                          subject=subject)
        session.add(section)
        session.flush()
        session.add(SectionTeacher(section_id=section.id, teacher_id=teacher.id))
        for position, standard in enumerate(standards):
            session.add(SectionStandard(section_id=section.id, competency_id=standard.id, position=position))
        for student in roster:
            session.add(Enrollment(section_id=section.id, student_id=student.id))
        sections.append(section)
        _evidence(session, rng, section, teacher, roster, standards, head_start)
    session.flush()
    _student_voice(session, rng, students, sections, plan)
    session.flush()
    _early_evidence(session, random.Random(seed + 12), sections, plan)
    session.flush()
    from gradebook.services.proficiency import recompute

    recompute(session)
    _paths(session, random.Random(seed + 13), sections, plan)
    session.flush()
    _habits(session, random.Random(seed + 14), sections, plan)
    session.flush()
    _grade_table(session, admin, school)
    return _logins(session)


def _grade_table(session: Session, admin: User, school: School) -> None:
    """The school publishes the default grade table mid-term, with the skills not taught yet left out of the
    count (at the end of the term it would count them as not reached)."""
    from gradebook.proficiency.grade_bridge import DEFAULT_BRIDGE, GradeBridge
    from gradebook.services.term_grades import save_bridge

    save_bridge(session, admin, school, GradeBridge(DEFAULT_BRIDGE.rules, DEFAULT_BRIDGE.otherwise, "left_out"),
                expected_version=0, summary="Published for the fall term.")


def _is_guardian_of(session: Session, guardian: User, student: User) -> bool:
    return session.scalar(select(GuardianLink.id).where(GuardianLink.guardian_id == guardian.id,
                                                        GuardianLink.student_id == student.id)) is not None


ASSESSMENT_PLAN = [
    # (week, weekday, title, kind, standard indexes, counts)
    (0, 1, "Lab: what makes a question testable?", "performance_task", [0], True),
    (0, 3, "Warm-up quiz", "practice", [0, 2], False),
    (1, 2, "Investigation plan", "project", [1], True),
    (1, 4, "Data table check", "test", [2], True),
    (2, 1, "Conversation: explaining results", "conversation", [3, 2], True),
    (2, 3, "Quiz 1", "test", [0, 1, 2], True),
    (3, 2, "Model building", "performance_task", [4], True),
    (3, 4, "Exit ticket", "observation", [3, 4], True),
    (4, 1, "Quiz 2", "test", [4, 5], True),
    (4, 3, "Lab report", "project", [1, 2, 3], True),
    (5, 1, "Reaction demo write-up", "performance_task", [5, 6], True),
    (5, 4, "Unit test", "test", [3, 5, 6, 9], True),
]


def _evidence(session: Session, rng: random.Random, section: Section, teacher: User, roster: list[User],
              standards: list[Competency], head_start: float = 0.0) -> None:
    start = date(2026, 10, 5)
    ability = {(s.id, c.id): rng.gauss(2.4 + head_start, 0.65) for s in roster for c in standards}
    now = utcnow()
    for week, weekday, title, kind, indexes, counts in ASSESSMENT_PLAN:
        when = start + timedelta(weeks=week, days=weekday)
        aligned = [standards[i] for i in indexes if i < len(standards)]
        assessment = Assessment(section_id=section.id, title=title, kind=kind, assessed_on=when, counts=counts,
                                created_by_id=teacher.id)
        session.add(assessment)
        session.flush()
        for standard in aligned:
            session.add(AssessmentStandard(assessment_id=assessment.id, competency_id=standard.id))
        for student in roster:
            for standard in aligned:
                roll = rng.random()
                status, score, feedback = "scored", None, ""
                if roll < 0.03:
                    status = "missing"
                elif roll < 0.045:
                    status = "excused"
                elif roll < 0.065:
                    status = "not_yet"
                    feedback = "Started but not finished; let's find a time to complete it this week."
                else:
                    level = ability[(student.id, standard.id)] + 0.12 * week + rng.gauss(0, 0.45)
                    score = float(min(4, max(1, round(level))))
                    if rng.random() < 0.4:
                        feedback = rng.choice(FEEDBACK[int(score)])
                evidence = Evidence(student_id=student.id, section_id=section.id, competency_id=standard.id,
                                    assessment_id=assessment.id, status=status, score=score, observed_on=when,
                                    feedback=feedback, recorded_by_id=teacher.id, recorded_at=now, updated_at=now)
                session.add(evidence)
                session.flush()
                session.add(EvidenceRevision(evidence_id=evidence.id, action="create", changed_by_id=teacher.id,
                                             changed_at=now, old=None, new=evidence.snapshot()))
    # A few conversations recorded without an assessment, and reassessments that keep the earlier evidence.
    for student in roster[:6]:
        standard = standards[0]
        evidence = Evidence(student_id=student.id, section_id=section.id, competency_id=standard.id,
                            assessment_id=None, status="scored", score=3.0, observed_on=start + timedelta(weeks=5, days=2),
                            feedback="In our conversation you explained this clearly and on your own.",
                            is_reassessment=True, recorded_by_id=teacher.id, recorded_at=now, updated_at=now)
        session.add(evidence)
        session.flush()
        session.add(EvidenceRevision(evidence_id=evidence.id, action="create", changed_by_id=teacher.id,
                                     changed_at=now, new=evidence.snapshot()))
    session.add(Override(student_id=roster[7].id, competency_id=standards[1].id, section_id=section.id,
                         level_points=3, created_by_id=teacher.id,
                         reason="Showed full mastery in the class project presentation, which was not scored."))


def _student_voice(session: Session, rng: random.Random, students: list[User], sections: list[Section],
                   plan: list) -> None:
    interests = ["drawing", "football", "coding games", "music", "animals", "cooking", "robotics", "reading fantasy"]
    styles = ["with diagrams and examples", "by talking it through", "by trying it myself first",
              "with quiet time to think", "in a small group"]
    for i, student in enumerate(students):
        session.add(LearnerProfile(
            student_id=student.id,
            strengths=rng.choice(["I notice patterns quickly.", "I keep going when it is hard.",
                                  "I explain things well to friends.", "I am careful and neat."]),
            needs=rng.choice(["Help getting started on long tasks.", "More time to check my work.",
                              "Reminders to show my steps.", "Practice with vocabulary."]),
            interests=", ".join(rng.sample(interests, 2)),
            learns_best=rng.choice(styles),
            teacher_notes="Participates well in discussions." if i % 2 == 0 else "",
        ))
    for _name, _code, _subject, teacher, roster, standards, _head_start in plan[:1]:
        section = sections[0]
        for student in roster[:10]:
            goal = Goal(student_id=student.id, title=f"Reach Meets on {standards[2].short_name.lower()}",
                        target_on=date(2026, 12, 11))
            session.add(goal)
            session.flush()
            session.add(GoalCompetency(goal_id=goal.id, competency_id=standards[2].id))
            for k, text in enumerate(["Redo the data table practice", "Ask for feedback on my graph",
                                      "Request a reassessment"]):
                session.add(GoalStep(goal_id=goal.id, text=text, position=k, done=k == 0))
            entry = PortfolioEntry(student_id=student.id, title="My investigation plan",
                                   reflection="I learned to change only one variable at a time. "
                                              "Next time I will plan how many trials to run.",
                                   visibility="family", featured=True)
            session.add(entry)
            session.flush()
            session.add(PortfolioEntryStandard(entry_id=entry.id, competency_id=standards[1].id))
            session.add(Narrative(section_id=section.id, student_id=student.id, updated_by_id=teacher.id,
                                  body=f"{student.first_name} asks thoughtful questions and is growing in "
                                       "how they use data to support a claim."))
        evidence_with_feedback = [session.scalars(
            select(Evidence).where(Evidence.section_id == section.id, Evidence.feedback != "",
                                   Evidence.student_id == student.id).order_by(Evidence.observed_on.desc()).limit(1)
        ).first() for student in roster[:5]]
        evidence_with_feedback = [e for e in evidence_with_feedback if e is not None]
        replies = ["Thank you! I will try that on the next lab.",
                   "I didn't understand what you meant by a fair test. Can we talk about it tomorrow?",
                   "I fixed the labels on my graph, can you look again?",
                   "I think I did control the variables, I just forgot to write it down.",
                   "Thanks, I'll add units to every column next time."]
        for evidence, body in zip(evidence_with_feedback, replies, strict=False):
            session.add(FeedbackReply(evidence_id=evidence.id, author_id=evidence.student_id, body=body))
        session.add(ReassessmentRequest(student_id=roster[1].id, section_id=section.id, competency_id=standards[2].id,
                                        requested_by_id=roster[1].id,
                                        note="I redid the practice set and fixed my graph scales."))


def _logins(session: Session) -> list[tuple[str, str, str]]:
    """One login per role worth trying, for the README and the console."""
    admin = session.scalar(select(User).where(User.email == f"admin@{DEMO_DOMAIN}"))
    teachers = session.scalars(select(User).where(User.role == "teacher").order_by(User.id).limit(3)).all()
    student = session.scalar(select(User).where(User.role == "student").order_by(User.id).limit(1))
    guardian = session.scalar(
        select(User).join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == (student.id if student else 0)).order_by(User.id).limit(1)
    )
    rows: list[tuple[str, str, str]] = []
    if admin:
        rows.append(("admin", admin.email, f"{admin.name}, district admin (every school)"))
    school_admin = session.scalar(select(User).where(User.email == f"hillside.admin@{DEMO_DOMAIN}"))
    if school_admin:
        rows.append(("admin", school_admin.email, f"{school_admin.name}, admin of Hillside Elementary only"))
    rows += [("teacher", t.email, t.name) for t in teachers]
    if student:
        rows.append(("student", student.email, student.name))
    if guardian and student:
        rows.append(("guardian", guardian.email, f"{guardian.name}, parent of {student.name} (and a sibling)"))
    spanish = session.scalar(select(User).where(User.role == "guardian", User.language == "es").order_by(User.id))
    if spanish:
        child = session.scalar(select(User).join(GuardianLink, GuardianLink.student_id == User.id)
                               .where(GuardianLink.guardian_id == spanish.id).order_by(User.id))
        rows.append(("guardian", spanish.email, f"{spanish.name}, parent of {child.name if child else 'a student'}; "
                                                "reads the pages in Spanish"))
    return rows


# ------------------------------------------------------------------ habits of work (#17)
#
# Every section tracks three habits of work, recorded on the habits scale beside the evidence: responsibility
# on every counted assessment (missing work there is a "missing" mark of responsibility, some work comes in
# late), persistence and collaboration on projects, performance tasks and conversations. They never touch
# the achievement levels computed above.

HABITS = [
    ("HW.1", "Responsibility", "Hands in work on time and comes ready to learn."),
    ("HW.2", "Persistence", "Keeps going when the work is hard, and tries again."),
    ("HW.3", "Collaboration", "Works well with others: listens, shares, and helps."),
]
SPANISH_HABITS = {
    "HW.1": ("Responsabilidad", "Entrega el trabajo a tiempo y llega listo para aprender."),
    "HW.2": ("Constancia", "Sigue adelante cuando el trabajo es difícil, y lo vuelve a intentar."),
    "HW.3": ("Colaboración", "Trabaja bien con otros: escucha, comparte y ayuda."),
}
SPANISH_HABIT_LEVELS = {  # English label: (label, description)
    "Consistently": ("Siempre", "Lo hace siempre, sin que se lo pidan."),
    "Usually": ("Casi siempre", "Lo hace casi todo el tiempo."),
    "Sometimes": ("A veces", "Lo hace de vez en cuando, a menudo con un recordatorio."),
    "Rarely": ("Pocas veces", "Todavía lo hace pocas veces."),
}
HABIT_KINDS = ("project", "performance_task", "conversation")


def _habits(session: Session, rng: random.Random, sections: list[Section], plan: list) -> None:
    from gradebook.models import HabitEvidence, HabitRevision, ScaleLevel, SectionHabit
    from gradebook.services.habits import create_habit_framework

    framework = create_habit_framework(session, "Riverside Habits of Work", HABITS, method="mode",
                                       identifier="riverside-habits-of-work")
    habits = list(session.scalars(select(Competency).where(Competency.framework_id == framework.id)
                                  .order_by(Competency.position)))
    for habit in habits:
        short, statement = SPANISH_HABITS[habit.code]
        _spanish(session, "competencies", habit.id, short_name=short, statement=statement)
    for level in session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id == framework.scale_id)):
        label, description = SPANISH_HABIT_LEVELS[level.label]
        _spanish(session, "scale_levels", level.id, label=label, description=description)
    now = utcnow()
    for section, (_name, _code, _subject, teacher, roster, _standards, _head) in zip(sections, plan, strict=True):
        for position, habit in enumerate(habits):
            session.add(SectionHabit(section_id=section.id, competency_id=habit.id, position=position))
        trait = {(s.id, h.id): rng.gauss(3.0, 0.7) for s in roster for h in habits}
        missing = {(a, s) for a, s in session.execute(
            select(Evidence.assessment_id, Evidence.student_id).where(
                Evidence.section_id == section.id, Evidence.status == "missing"))}
        assessments = list(session.scalars(select(Assessment).where(
            Assessment.section_id == section.id, Assessment.counts.is_(True)).order_by(Assessment.assessed_on)))
        added: list[HabitEvidence] = []
        for assessment in assessments:
            for student in roster:
                for habit in habits:
                    if habit.code != "HW.1" and assessment.kind not in HABIT_KINDS:
                        continue
                    status, score = "scored", None
                    if habit.code == "HW.1" and (assessment.id, student.id) in missing:
                        status = "missing"
                    elif habit.code == "HW.1" and rng.random() < 0.06:
                        status = "late"
                    else:
                        score = float(min(4, max(1, round(trait[(student.id, habit.id)] + rng.gauss(0, 0.5)))))
                    added.append(HabitEvidence(
                        student_id=student.id, section_id=section.id, competency_id=habit.id,
                        assessment_id=assessment.id, status=status, score=score, observed_on=assessment.assessed_on,
                        recorded_by_id=teacher.id, recorded_at=now, updated_at=now))
        session.add_all(added)
        session.flush()
        session.add_all([HabitRevision(habit_evidence_id=e.id, action="create", changed_by_id=e.recorded_by_id,
                                       changed_at=now, old=None, new=e.snapshot()) for e in added])


# ------------------------------------------------------------------ learning paths (#12)
#
# Every section gets three units dated around the six weeks of evidence (5 Oct - 13 Nov), prerequisites, a
# playlist of five activities per standard (every band, some for home, some matching the learner profiles'
# interests), three ways to show, and students' choices. "Today" for the demo is early December, when the
# third unit has begun: some students are ahead, some behind, from their evidence alone.

UNITS = {
    "Science": [("How scientists work", date(2026, 9, 28), date(2026, 11, 20), [0, 1, 2, 3]),
                ("Matter and its changes", date(2026, 10, 26), date(2026, 12, 11), [4, 5, 6]),
                ("Ecosystems and arguing from evidence", date(2026, 11, 30), date(2026, 12, 18), [7, 8, 9, 10, 11])],
    "Math": [("Ratios and rates", date(2026, 9, 28), date(2026, 11, 20), [0, 1, 2]),
             ("Expressions and equations", date(2026, 10, 26), date(2026, 12, 11), [3, 4, 5]),
             ("Geometry, data and chance", date(2026, 11, 30), date(2026, 12, 18), [6, 7, 8, 9, 10, 11])],
}
# (standard index, the index of its prerequisite)
PREREQUISITES = {
    "Science": [(1, 0), (2, 1), (3, 2), (5, 4), (6, 5), (8, 7), (10, 8), (10, 9), (11, 10)],
    "Math": [(1, 0), (2, 1), (4, 3), (5, 4), (6, 1), (10, 9)],
}
# (band, kind, title, what to do, minutes, for home, interest tags); {name} is the standard's short name.
ACTIVITY_PLAN = [
    ("getting_started", "watch", "Watch: {name} in five minutes",
     "Watch the short video. Write down two new words and one question you still have.", 10, False, ""),
    ("getting_started", "read", "Worked example: {name}",
     "Read the worked example step by step, then cover it and try the first question on your own.", 15, True, ""),
    ("to_mastery", "practice", "Practice set: {name}",
     "Do the six questions. Check with the answer key and fix two of your mistakes; write what went wrong.",
     25, False, ""),
    ("to_mastery", "discuss", "Talk it through at home: {name}",
     "Explain {lname} to someone at home in two minutes. Ask them what was not clear, and try again.",
     15, True, ""),
    ("to_mastery", "teacher", "Small group with your teacher",
     "Join Tuesday's small group at lunch. Bring the question you found hardest.", 20, False, ""),
    ("beyond", "make", "Draw a comic: {name}",
     "Draw a four-panel comic that teaches {lname} to a younger student.", 40, False, "drawing"),
    ("beyond", "make", "Code a quiz game",
     "Make a small quiz game (Scratch is fine) with five questions on {lname}.", 45, False, "coding games"),
]
HOME_EXTRA = {
    "Science": ("to_mastery", "make", "Kitchen science", "Try the kitchen experiment sheet with your family: "
                "predict, test and write what you saw.", 30, True, "cooking"),
    "Math": ("to_mastery", "practice", "Sports numbers", "Pick a team you follow. Use its last five games to "
             "make and solve two problems.", 30, True, "football"),
}
WAYS = {
    "Science": [("Quiz", "A short quiz in class, any Friday."),
                ("Lab demonstration", "Show it with an experiment and explain what it means."),
                ("Conversation", "Five minutes with your teacher: explain it in your own words.")],
    "Math": [("Quiz", "A short quiz in class, any Friday."),
             ("Explain a problem", "Solve a new problem out loud and explain each step."),
             ("Video", "Record a two-minute video solving a problem of your choice.")],
}
REFLECTIONS = ["The video helped, the second example was the one that clicked.",
               "I got 4 of 6 right; I keep mixing up the two steps.",
               "Explaining it to my sister showed me what I did not understand.",
               "Hard at first, easier the second time.",
               "I need to check my units every time."]


def _early_evidence(session: Session, rng: random.Random, sections: list[Section], plan: list) -> None:
    """Late November: about half the students were reassessed on a skill of the first two units (a practice
    round, then a conversation), and the strongest of each section already showed some skills of the third
    unit, so the demo has students ahead as well as on track and behind."""
    from sqlalchemy import func

    for section, (_name, _code, subject, teacher, roster, standards, _head) in zip(sections, plan, strict=True):
        now = utcnow()
        earlier = [(standards[i], 0.7 - 0.2 * u) for u, (_title, _s, _e, indexes) in enumerate(UNITS[subject][:2])
                   for i in indexes]
        for student in roster:
            for j, (standard, chance) in enumerate(earlier):
                if rng.random() >= chance:
                    continue
                for day, score in ((0, rng.choice([2.0, 3.0])), (5, rng.choice([3.0, 4.0, 4.0]))):
                    evidence = Evidence(
                        student_id=student.id, section_id=section.id, competency_id=standard.id, assessment_id=None,
                        status="scored", score=score, observed_on=date(2026, 11, 16) + timedelta(days=day + j % 3),
                        feedback="You redid the practice and explained it clearly on your own." if day else "",
                        is_reassessment=True, recorded_by_id=teacher.id, recorded_at=now, updated_at=now)
                    session.add(evidence)
                    session.flush()
                    session.add(EvidenceRevision(evidence_id=evidence.id, action="create", changed_by_id=teacher.id,
                                                 changed_at=now, new=evidence.snapshot()))
        third = [standards[i] for i in UNITS[subject][2][3]]
        strength = dict(session.execute(
            select(Evidence.student_id, func.avg(Evidence.score)).where(
                Evidence.section_id == section.id, Evidence.status == "scored").group_by(Evidence.student_id)).all())
        strongest = sorted(roster, key=lambda s: (-(strength.get(s.id) or 0), s.id))[:4]
        now = utcnow()
        for k, student in enumerate(strongest):
            for j, standard in enumerate(third[:4 - k // 2]):
                for day in (0, 3):
                    evidence = Evidence(
                        student_id=student.id, section_id=section.id, competency_id=standard.id, assessment_id=None,
                        status="scored", score=float(rng.choice([3, 3, 4])),
                        observed_on=date(2026, 11, 19) + timedelta(days=day + j % 2),
                        feedback="You showed this early, in our conversation: great." if day else "",
                        recorded_by_id=teacher.id, recorded_at=now, updated_at=now)
                    session.add(evidence)
                    session.flush()
                    session.add(EvidenceRevision(evidence_id=evidence.id, action="create", changed_by_id=teacher.id,
                                                 changed_at=now, new=evidence.snapshot()))


DEMO_TODAY = date(2026, 12, 1)


def _paths(session: Session, rng: random.Random, sections: list[Section], plan: list) -> None:
    from gradebook.services import path_choices
    from gradebook.services import paths as path_service
    from gradebook.services.path_views import student_path

    for index, (section, (_name, _code, subject, teacher, roster, standards, _head)) in enumerate(
            zip(sections, plan, strict=True)):
        units = [path_service.create_unit(session, teacher, section, title=title, starts_on=starts, target_on=ends,
                                          competency_ids=[standards[i].id for i in indexes])
                 for title, starts, ends, indexes in UNITS[subject]]
        for needs, first in PREREQUISITES[subject]:
            path_service.add_prerequisite(session, teacher, section, competency_id=standards[needs].id,
                                          requires_id=standards[first].id)
        search = "https://www.khanacademy.org/search?page_search_query="
        for k, standard in enumerate(standards):
            name = standard.short_name or standard.code
            rows = [row for j, row in enumerate(ACTIVITY_PLAN) if row[0] != "beyond" or (j + k) % 2 == 0]
            if k % 3 == 0:
                rows.append(HOME_EXTRA[subject])
            for band, kind, title, instructions, minutes, home, tags in rows:
                url = search + name.lower().replace(" ", "+") if kind in ("watch", "read") else None
                path_service.create_activity(session, teacher, section, path_service.ActivityInput(
                    competency_id=standard.id, title=title.format(name=name, lname=name.lower()),
                    instructions=instructions.format(lname=name.lower()), url=url, kind=kind, minutes=minutes,
                    band=band, for_home=home, interest_tags=tags))
            for title, description in WAYS[subject]:
                path_service.add_way_to_show(session, teacher, section, competency_id=standard.id, title=title,
                                             description=description)
        session.flush()
        if index == 0:  # one student's own date and one skill left out, each with its reason
            path_service.give_own_target_date(
                session, teacher, section, student_id=roster[3].id, unit_id=units[0].id,
                target_on=date(2026, 11, 27), reason="Missed two weeks in October; agreed with the family.")
            path_service.leave_out_standard(
                session, teacher, section, student_id=roster[5].id, competency_id=standards[11].id,
                reason="Presented this at the science fair in spring; shown there.")
        _student_choices(session, rng, section, teacher, roster, path_service, path_choices, student_path, index)


def _student_choices(session: Session, rng: random.Random, section: Section, teacher: User, roster: list[User],
                     path_service, path_choices, student_path, index: int) -> None:  # type: ignore[no-untyped-def]
    """Focus picks, activities picked, in progress and done (with reflections), a teacher's assignments, and a
    couple of open "I'm ready to show" requests."""
    behind: list[User] = []
    for k, student in enumerate(roster):
        path = student_path(session, student, section.id, on=DEMO_TODAY)
        if path is None:
            continue
        unit = path.current_unit
        if unit is not None and unit.pace.status == "behind":
            behind.append(student)
        if k % 3 == 0 and len(path.next) > 1:  # a third choose their own focus among what is next
            path_choices.set_focus(session, student, section.id, path.next[1].id)
            path = student_path(session, student, section.id, on=DEMO_TODAY)
        if path is None or path.focus is None or k % 2:
            continue
        items = [i for band in path.bands[:1] for i in path.playlist[band]]
        for j, item in enumerate(items[:2]):
            status = ("done", "working", "chosen")[(k + j) % 3]
            reflection = REFLECTIONS[(k + j) % len(REFLECTIONS)] if status == "done" else None
            path_choices.set_activity_status(session, student, section.id, item.activity.id, status, reflection)
        if (index, k) in ((0, 2), (0, 8), (2, 4)) and path.ways:
            way = path.ways[rng.randrange(len(path.ways))]
            path_choices.ready_to_show(session, student, section.id, way.id,
                                       "I finished the practice set and fixed my mistakes; I can explain it now.")
    for student in behind[:3]:  # the teacher gives those behind a getting-started activity ("from your teacher")
        path = student_path(session, student, section.id, on=DEMO_TODAY)
        first = path.playlist.get("getting_started") if path is not None else None
        if first:
            path_service.assign_activities(session, teacher, section, activity_ids=[first[0].activity.id],
                                           student_ids=[student.id],
                                           note="Start with this one; we will look at it together on Thursday.")
    session.flush()
