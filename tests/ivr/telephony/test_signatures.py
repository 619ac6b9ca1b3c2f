from flask import Flask
from twilio.request_validator import RequestValidator

from ivr.telephony.signatures import public_url_of, twilio_signed

TOKEN = "12345"


def test_twilio_published_test_vector() -> None:
    validator = RequestValidator(TOKEN)
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert validator.compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert validator.validate(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def _app() -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(TOKEN)

    @app.post("/voice/hook")
    @twilio_signed(lambda: (validator, "https://public.example.org"))
    def hook():  # type: ignore[no-untyped-def]
        return "ok"

    return app


def test_signature_checked_against_public_url_not_host() -> None:
    client = _app().test_client()
    params = {"CallSid": "CA1", "From": "+14105550100", "Digits": "1"}
    url = "https://public.example.org/voice/hook?event=gather&seq=2"
    good = RequestValidator(TOKEN).compute_signature(url, params)
    # Flask sees http://localhost; the signature was made for the public URL and must pass.
    ok = client.post("/voice/hook?event=gather&seq=2", data=params,
                     headers={"X-Twilio-Signature": good})
    assert ok.status_code == 200
    # Signed for the internal host: refused.
    internal = RequestValidator(TOKEN).compute_signature(
        "http://localhost/voice/hook?event=gather&seq=2", params)
    bad = client.post("/voice/hook?event=gather&seq=2", data=params,
                      headers={"X-Twilio-Signature": internal})
    assert bad.status_code == 403


def test_missing_wrong_and_tampered_signatures_refused() -> None:
    client = _app().test_client()
    params = {"CallSid": "CA1", "Digits": "1"}
    url = "https://public.example.org/voice/hook"
    sig = RequestValidator(TOKEN).compute_signature(url, params)
    assert client.post("/voice/hook", data=params).status_code == 403
    assert client.post("/voice/hook", data=params,
                       headers={"X-Twilio-Signature": "AAAA"}).status_code == 403
    tampered = {**params, "Digits": "9"}
    assert client.post("/voice/hook", data=tampered,
                       headers={"X-Twilio-Signature": sig}).status_code == 403
    other_token = RequestValidator("nope").compute_signature(url, params)
    assert client.post("/voice/hook", data=params,
                       headers={"X-Twilio-Signature": other_token}).status_code == 403
    assert client.post("/voice/hook", data=params,
                       headers={"X-Twilio-Signature": sig}).status_code == 200


def test_repeated_parameter_names_are_signed_sorted() -> None:
    client = _app().test_client()
    data = [("CallSid", "CA1"), ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered")]
    url = "https://public.example.org/voice/hook"
    s = url + "CallSidCA1StatusCallbackEventansweredStatusCallbackEventringing"
    import base64
    import hashlib
    import hmac

    sig = base64.b64encode(hmac.new(TOKEN.encode(), s.encode(), hashlib.sha1).digest()).decode()
    from werkzeug.datastructures import MultiDict

    assert client.post("/voice/hook", data=MultiDict(data),
                       headers={"X-Twilio-Signature": sig}).status_code == 200


def test_public_url_keeps_query_string() -> None:
    app = _app()
    with app.test_request_context("/voice/hook?a=1&b=2", method="POST"):
        from flask import request

        assert public_url_of(request, "https://x.org") == "https://x.org/voice/hook?a=1&b=2"


def test_non_ascii_signature_refused_not_crashed() -> None:
    """`hmac.compare_digest` raises TypeError on a non-ASCII str: that must be a 403, not a 500."""
    client = _app().test_client()
    params = {"CallSid": "CA1", "Digits": "1"}
    for signature in ("é" * 28, "RSOYDt4T1cUTdK1PDd93/VVr8B8\u00e9", "\u2603"):
        response = client.post("/voice/hook", data=params,
                               headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403, signature
