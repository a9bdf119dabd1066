def main() -> None:
    print("medadapt")
