"""The pages' sessions against a real database (SQLite here; the page tests sign in through a browser):
the cookie holds a session id, never the API token; signing out, expiry and revoking the token end it."""

import time

import pytest
import sqlalchemy as sa


@pytest.fixture()
def engine(tmp_path):
    from pipeline.service.db import connect, database_url, migrate

    eng = connect(database_url("", str(tmp_path)))
    migrate(eng)
    return eng


def test_a_session_is_not_the_token_and_signing_out_ends_it(engine):
    from pipeline.service import auth
    from pipeline.service.sessions import close_session, open_session, session_user

    token = auth.create(engine, "alice")
    assert open_session(engine, "cpt_not-a-token") is None
    sid = open_session(engine, token)
    assert sid and sid.startswith("cpts_") and token not in sid and sid != open_session(engine, token)
    assert session_user(engine, sid) == auth.User("alice", False)
    assert session_user(engine, token) is None  # the API token is not a session id
    assert session_user(engine, sid + "x") is None
    close_session(engine, sid)
    assert session_user(engine, sid) is None  # a copy of the cookie is refused after sign-out


def test_sessions_expire_and_die_with_their_token(engine):
    from pipeline.service import auth
    from pipeline.service.db import web_sessions, write
    from pipeline.service.sessions import open_session, session_user

    token = auth.create(engine, "bob", admin=True)
    old, live = open_session(engine, token), open_session(engine, token)
    with write(engine) as conn:
        conn.execute(web_sessions.update().where(web_sessions.c.digest == auth.digest(old))
                     .values(expires_at=time.time() - 1))
    assert session_user(engine, old) is None and session_user(engine, live) == auth.User("bob", True)
    open_session(engine, token)  # a sign-in sweeps expired rows
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar_one() == 2
    assert auth.revoke(engine, "bob")
    assert session_user(engine, live) is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar_one() == 0
    auth.create(engine, "bob")  # a new token under the same name revives no old session
    assert session_user(engine, live) is None and open_session(engine, token) is None
