def greeting(name: str, mark: str, loud: bool) -> str:
    text = f"Hello, {name}{mark}"
    return text.upper() if loud else text
