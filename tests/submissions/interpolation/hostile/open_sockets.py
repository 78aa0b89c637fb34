"""interpolate tries the network: a TCP connection to the grading machine's own services and to the outside world, and
an abstract Unix socket that another submission could share. In the jail's network namespace there is no
interface up, so every attempt fails.

fails interpolate: connected to nothing
"""
import socket

TARGETS = [("127.0.0.1", 22), ("127.0.0.1", 8888), ("127.0.0.1", 47613), ("8.8.8.8", 53), ("1.1.1.1", 443)]


def interpolate(model, x1, x2, steps=10, method="linear"):
    connected = []
    for address in TARGETS:
        try:
            with socket.create_connection(address, timeout=0.2):
                connected.append(address)
        except OSError:
            pass
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as peer:
            peer.connect("\0vae-course-grader")
            connected.append("abstract socket")
    except OSError:
        pass
    raise RuntimeError(f"connected to {connected or 'nothing'}")
