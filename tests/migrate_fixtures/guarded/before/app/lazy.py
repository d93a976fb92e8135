"""Imports the protocol package only inside the function that needs it."""


def request(prompt: str) -> object:
    from sagellm_protocol import Request

    return Request(request_id="r1", trace_id="t1", model="m", prompt=prompt, max_tokens=8)


def prompt_of(value: object) -> str:
    return str(value)
