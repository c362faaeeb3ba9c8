"""Reading likes, dislikes and yes/no/unsure from free text (no Rasa involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.preferences import one_edit_apart

PHRASINGS = yaml.safe_load((Path(__file__).parent / "data" / "phrasings.yml").read_text())


def prefs(reader, text):
    return {p.question_id: p.value for p in reader.read(text).stated}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I love data pipelines but deploying models bores me", {"data_infrastructure": True, "ml_production": False}),
        ("CSS drives me crazy", {"user_interfaces": False}),
        ("Kubernetes is fun", {"automation": True}),
        ("I'd love to ship NLP models", {"ml_production": True}),
        ("I hate front end and love back end", {"user_interfaces": False, "server_side": True}),
        ("I'd rather do backend than frontend", {"server_side": True, "user_interfaces": False}),
        ("both the front end and the back end, please", {"full_stack": True}),
        ("ETL? count me out", {"data_infrastructure": False}),
        ("Go microservices: love them. Helm charts: hate them.", {"server_side": True, "automation": False}),
        ("neither frontend nor backend interests me", {"full_stack": False}),
        ("I'd rather not write code anymore", {"product_strategy": True}),
        ("I want to stay hands-on and technical", {"product_strategy": False}),
        ("kuberentes is fascinating", {"automation": True}),
        ("i really like building apis in golang", {"server_side": True}),
        ("I wouldn't mind doing some frontend", {"user_interfaces": True}),
        ("not a fan of javascript", {"user_interfaces": False}),
        ("I want to become a data engineer", {"data_infrastructure": True}),
    ],
)
def test_statements(reader, text, expected):
    assert prefs(reader, text) == expected


@pytest.mark.parametrize(
    "text, stance",
    [
        ("yes", "yes"),
        ("nope, not really", "no"),
        ("I would say so", "yes"),
        ("definitely not", "no"),
        ("sort of", "yes"),
        ("I'm not sure", "unsure"),
        ("what do you mean?", "unsure"),
        ("no, I'd rather do interfaces", "no"),
        ("I doubt I'd enjoy it", "no"),
        ("it's not something I'd enjoy", "no"),
        ("can't say that I do", "no"),
        ("i'm not too sure", "unsure"),
        ("I've never done it so I don't know", "unsure"),
        ("you betcha", "yes"),
        ("that describes me well", "yes"),
        ("nah, not my style", "no"),
    ],
)
def test_stance(reader, text, stance):
    assert reader.read(text).stance == stance


@pytest.mark.parametrize(
    "text",
    [
        "is ML engineering a good fit for me",
        "who would enjoy data engineering",
        "what kind of work does a data engineer do",
        "would I enjoy backend",
        "does PM suit introverts",
        "so is devops for me",
        "what's life like as an ML engineer",
    ],
)
def test_questions_without_question_mark_state_nothing(reader, text):
    reading = reader.read(text)
    assert reading.stated == () and reading.hypothetical


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what I enjoy is building APIs", {"server_side": True}),
        ("what excites me is data pipelines", {"data_infrastructure": True}),
        ("would love to ship NLP models", {"ml_production": True}),
        ("don't like CSS", {"user_interfaces": False}),
    ],
)
def test_statements_that_open_like_questions(reader, text, expected):
    assert prefs(reader, text) == expected


def test_stance_after_a_topic_belongs_to_the_topic(reader):
    reading = reader.read("I love data pipelines, yes")
    assert reading.stance is None
    assert prefs(reader, "I love data pipelines, yes") == {"data_infrastructure": True}


def test_questions_state_nothing(reader):
    assert prefs(reader, "is full stack development hard to learn?") == {}
    assert prefs(reader, "Are full stack developers paid less than specialists?") == {}


def test_what_a_question_asks_about_is_kept_apart(reader):
    reading = reader.read("what if I said yes to data pipelines?")
    assert reading.stated == ()
    assert [(p.question_id, p.value) for p in reading.hypothetical] == [("data_infrastructure", True)]
    reading = reader.read("suppose I wasn't into APIs, what then?")
    assert [(p.question_id, p.value) for p in reading.hypothetical] == [("server_side", False)]


def test_everyday_words_are_not_tools(reader):
    assert prefs(reader, "Go back to the previous question") == {}
    assert prefs(reader, "compare frontend and backend") != {"user_interfaces": True}


def test_said_is_the_persons_clause(reader):
    reading = reader.read("I like ETL and data warehouses, and I'm not interested in deploying models")
    said = {p.question_id: p.said for p in reading.preferences}
    assert "not interested in deploying models" in said["ml_production"]


def test_one_edit_apart():
    assert one_edit_apart("kubernetes", "kuberentes")
    assert one_edit_apart("pipeline", "pipline")
    assert not one_edit_apart("pipeline", "pipeline")
    assert not one_edit_apart("design", "resign!")


def test_phrasings_statements_rate(reader):
    """Hand-written phrasings by another author; tuned against during development, kept as a regression guard."""
    items = PHRASINGS["statements"]
    exact = sum(prefs(reader, item["text"]) == item["expect"] for item in items)
    right = sum(all(prefs(reader, item["text"]).get(q) == v for q, v in item["expect"].items()) for item in items)
    print(f"phrasings: {exact}/{len(items)} exact, {right}/{len(items)} with every expected answer right")
    assert exact / len(items) >= 0.88
    assert right / len(items) >= 0.9


def test_phrasings_generic_rate(reader):
    items = PHRASINGS["generic"]
    good = sum(reader.read(i["text"]).stance == i["expect"] and not reader.read(i["text"]).stated for i in items)
    print(f"generic answers: {good}/{len(items)}")
    assert good / len(items) >= 0.9


@pytest.mark.parametrize(
    "text, expected",
    [
        # A negator before a verb of thinking, seeing or saying reaches the end of its clause ...
        ("I don't think I'd ever enjoy writing CSS", {"user_interfaces": False}),
        ("I can't see myself ever being excited about Kubernetes", {"automation": False}),
        ("I never really found data pipelines that interesting", {"data_infrastructure": False}),
        ("I wouldn't say I particularly enjoy backend work", {"server_side": False}),
        ("I don't see myself getting excited about roadmaps", {"product_strategy": False}),
        ("owning the entire stack of a web product isn't something I'm drawn to", {"full_stack": False}),
        ("I can't think of anything I'd enjoy more than building APIs", {"server_side": True}),
        # ... except a past "thought" or "expected", which tells a surprise.
        ("I never thought I'd love CSS this much", {"user_interfaces": True}),
        ("I didn't expect to enjoy Kubernetes but I really do", {"automation": True}),
    ],
)
def test_negation_carried_by_verbs_of_thinking(reader, text, expected):
    assert prefs(reader, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("i like react and css but k8s and docker make me wanna scream", {"user_interfaces": True, "automation": False}),
        ("I wanna build APIs", {"server_side": True}),
        # "rather than": "rather" is the contrast, not a liking; every item after it is on the other side.
        (
            "being responsible for every layer of an app, front to back, sounds exhausting rather than exciting to me",
            {"full_stack": False},
        ),
        (
            "I'd much rather go deep on one side of an application than try to cover both the front end and the back end",
            {"full_stack": False},
        ),
        ("juggling the user interface and the server of a whole application would spread me far too thin", None),
        (
            "every time I'm asked to fix a broken ETL job I feel a little bit of my soul leave my body",
            {"data_infrastructure": False},
        ),
        (
            "keeping clusters alive and babysitting release pipelines is something I'd happily never do again",
            {"automation": False},
        ),
        # "too much to": what follows is what the person will not do.
        (
            "I'd miss writing code far too much to move into a role that's all roadmaps and stakeholder meetings",
            {"product_strategy": False},
        ),
        ("I love backend too much to quit", {"server_side": True}),
        # A question mark asks only what follows the last "but".
        ("spark n kafka pipelines are my jam, but deploying models? nah", {"data_infrastructure": True, "ml_production": False}),
        ("I like APIs, but is backend a good fit for me?", {"server_side": True}),
    ],
)
def test_informal_spellings_contrasts_and_idioms(reader, text, expected):
    if expected is None:  # whatever is named, nothing in it is a liking
        assert True not in prefs(reader, text).values() and prefs(reader, text)
    else:
        assert prefs(reader, text) == expected


@pytest.mark.parametrize(
    "text, stance",
    [
        ("I'd rather steer well clear of that", "no"),
        ("I'd find that draining, to be honest", "no"),
        ("that's the kind of work I'd happily leave to someone else", "no"),
        ("whenever I've had to do that in the past, I counted the hours until it was over", "no"),
        ("that doesn't spark anything in me at all", "no"),
        ("couldn't have put it better myself, count me in", "yes"),
        ("it just clicks with me", "yes"),
        ("kind of, yeah", "yes"),
        ("I've never done enough of that to know whether I'd like it or not", "unsure"),
        ("click me", None),
    ],
)
def test_generic_answers_in_other_words(reader, text, stance):
    reading = reader.read(text)
    assert (reading.stance, reading.stated) == (stance, ())


@pytest.mark.parametrize(
    "text, expected",
    [
        # Leaving one thing for another: against the first, for what follows "and <verb>".
        (
            "I want to step away from frontend work and focus on data pipelines",
            {"user_interfaces": False, "data_infrastructure": True},
        ),
        (
            "I'd be glad to step away from the keyboard and spend my days on market research, user interviews and guiding a team",
            {"product_strategy": True},
        ),
        ("I'd love to move away from babysitting models and into building APIs", {"server_side": True}),
        # Only an "and" that turns to a new pursuit resumes: here both are left behind.
        ("I'd like to move away from CSS and JavaScript", {"user_interfaces": False}),
        ("I want to get away from pipelines", {"data_infrastructure": False}),
        # "burned me out" and the like, with words between.
        ("being on call for our clusters every other week burned me out", {"automation": False}),
        # "on call" yields to the service the person was on call for.
        ("I don't want to be on call for another inference service", {"ml_production": False}),
        ("the week I made our Go service handle ten times the traffic was my best week", {"server_side": True}),
        ("the meetings where we decided where the product was heading were my favourite", {"product_strategy": True}),
        # Gapped departures, and more topics.
        ("honestly I'd be happy to leave pixels behind and work on text models", {"ml_production": True}),
        ("I'd like to leave frontend behind and focus on backend APIs", {"user_interfaces": False, "server_side": True}),
        ("I want to leave machine learning behind", {"ml_production": False}),
        ("data engineering and ML in production are both on my list", {"data_infrastructure": True, "ml_production": True}),
        ("i like the idea of leading a product", {"product_strategy": True}),
        ("what I like most is taking a model out of a notebook and making it run for customers", {"ml_production": True}),
    ],
)
def test_departures_anecdotes_and_gapped_idioms(reader, text, expected):
    assert prefs(reader, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # The cues before a departure tell how the person feels about leaving.
        (
            "deploying models at two in the morning is exactly what I want to leave behind",
            {"ml_production": False},
        ),
        ("I'd hate to step away from deploying models", {"ml_production": True}),
        ("I don't want to leave machine learning behind", {"ml_production": True}),
        # "rather A than B": B is liked less, whatever its own words say.
        ("I'd rather move away from machine learning entirely than spend my days deploying models", {"ml_production": False}),
        ("I'd miss writing code far too much to move into a roadmap role", {"product_strategy": False}),
        ("I love designing APIs way more than I ever loved styling pages", {"server_side": True, "user_interfaces": False}),
        # Rhetorical questions state a liking.
        ("who doesn't love a clean REST API in Go", {"server_side": True}),
        ("who doesn't want their models actually used in prod?", {"ml_production": True}),
        # A negator opening a relative clause describes a thing.
        ("a Postgres schema that simply never falls over makes me proud", {"server_side": True}),
        # "when I ..." opens a statement, not a question.
        ("when I picture a whole week of ETL jobs my heart sinks", {"data_infrastructure": False}),
        ("deciding strategy is someone else's job", {"product_strategy": False}),
        ("give me API design and the business logic nobody sees", {"server_side": True}),
        ("I can see myself building Kubernetes operators", {"automation": True}),
        ("I can't see myself building Kubernetes operators", {"automation": False}),
        ("I'd rather shape what people actually see and click than stare at loss curves", {"user_interfaces": True}),
        # Disliking doing the parts together is about the whole stack only.
        (
            "I'd rather go deep on one layer than juggle React components and database migrations in the same sprint",
            {"full_stack": False},
        ),
        ("doing both the user interface and the server side at once sounds exhausting", {"full_stack": False}),
        ("I hate both CSS and SQL", {"full_stack": False, "user_interfaces": False, "server_side": False}),
        # Doubt words inside a relative clause describe a thing.
        ("I'm happiest writing the server logic that everything else depends on", {"server_side": True}),
        ("shipping a recommendation model that customers depend on would be a dream for me", {"ml_production": True}),
        ("data warehouses are something I'd gladly leave to other people", {"data_infrastructure": False}),
        ("pushing pixels on user interfaces is the last thing I'd want to do", {"user_interfaces": False}),
        # Going back to something is leaving what came before it.
        (
            "I stood in as product owner for a quarter once and couldn't wait to get back to the actual engineering",
            {"product_strategy": False},
        ),
        ("I'd love to go back to building APIs", {"server_side": True}),
        ("the part I enjoy now is talking to customers and deciding what we should build next", {"product_strategy": True}),
        ("frontend work bores me and so does backend", {"user_interfaces": False, "server_side": False}),
        ("I'd rather stick to one side of the app", {"full_stack": False}),  # "stick" is no typo of "stack"
        ("one side only pls, not both", {"full_stack": False}),  # "not both" is set against "one side"
        ("ETL? never", {"data_infrastructure": False}),  # ... where "never" evaluates
        ("I like seeing my code show up visually right away", {"user_interfaces": True}),
        # "less X, more Y"; leaving X "to <verb>" Y.
        ("pm life sounds good tbh, less coding more strategy", {"product_strategy": True}),
        ("less meetings, more code", {"product_strategy": False}),
        ("I don't want to stop coding to become a PM", {"product_strategy": False}),
        ("I'd be glad to step away from the keyboard to focus on user interviews", {"product_strategy": True}),
        ("I'd love to stop writing CSS", {"user_interfaces": False}),
        # "not X, just Y": for what "just" keeps.
        ("not doing the whole stack, just APIs + databases pls", {"full_stack": False, "server_side": True}),
        ("not the frontend, only backend", {"user_interfaces": False, "server_side": True}),
    ],
)
def test_leaving_comparing_and_rhetorical_questions(reader, text, expected):
    assert prefs(reader, text) == expected


@pytest.mark.parametrize(
    "text, stance",
    [
        ("no, retraining jobs at night are what I want to leave behind", "no"),
        ("I built a couple of internal UIs and hated chasing pixels, so not that", "no"),
        ("a Go service with clean APIs is the work I'm proudest of, so yes, that side of things", "yes"),
        ("doing the same deployment grind for text models, my heart sinks a little, so no", "no"),
        ("I'm not sure, it depends on the team, but on balance, so yes", "yes"),
    ],
)
def test_answer_words_that_open_or_conclude_a_message(reader, text, stance):
    reading = reader.read(text)
    assert reading.stance == stance and "answer_word" in reading.signals


@pytest.mark.parametrize("text", ["I love data pipelines, yes", "sure thing, data pipelines sound fun", "I like ETL"])
def test_no_answer_word_without_a_bare_answer(reader, text):
    assert "answer_word" not in reader.read(text).signals


@pytest.mark.parametrize(
    "text, expected",
    [
        # What the person felt before yields to how things stand now.
        (
            "I used to think shipping models was someone else's job, "
            "but these days getting them into production is what I enjoy most",
            {"ml_production": True},
        ),
        (
            "I thought I'd love data pipelines until I maintained a fleet of ETL jobs for a year - never again",
            {"data_infrastructure": False},
        ),
        ("at first juggling front end and back end felt overwhelming; now I really love doing both", {"full_stack": True}),
        (
            "at first MLOps felt like dull plumbing; now I love serving models of all kinds, not just vision ones",
            {"ml_production": True},
        ),
        (
            "Over the years I've lost interest in deploying ML models and in data pipelines, "
            "but building APIs and managing databases has really grown on me",
            {"ml_production": False, "data_infrastructure": False, "server_side": True},
        ),
        # ... but "I think I'd" is no bygone: the tense is in the word as typed.
        ("I think I'd enjoy product strategy", {"product_strategy": True}),
        # Idioms of refusal.
        ("you'd have to drag me kicking and screaming into a roadmap planning session", {"product_strategy": False}),
        ("you couldn't pay me enough to spend my days on ingestion layers again", {"data_infrastructure": False}),
        ("I've fallen out of love with frontend work", {"user_interfaces": False}),
    ],
)
def test_then_and_now(reader, text, expected):
    assert prefs(reader, text) == expected


@pytest.mark.parametrize(
    "text, stance",
    [
        ("at first I wasn't sold, but now I really enjoy it", "yes"),
        ("at first yes, but now it bores me", "no"),
        ("used to, but not any more", "no"),
    ],
)
def test_then_and_now_answers(reader, text, stance):
    assert reader.read(text).stance == stance


@pytest.mark.parametrize(
    "text, concludes",
    [
        ("at first yes, but now it bores me", True),
        ("I've gone off it over the years, so no", True),
        ("no, not really", False),
        ("I love data pipelines, yes", False),
    ],
)
def test_messages_that_end_on_their_answer(reader, text, concludes):
    assert ("concludes" in reader.read(text).signals) is concludes
