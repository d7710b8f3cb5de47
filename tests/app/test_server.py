"""`loyaltylab app` follows the command line's exit-code contract for bad input."""

import socket

from loyaltylab.app.server import bind, url
from loyaltylab.cli import build_parser, main


def test_a_port_in_use_is_one_line_and_exit_code_2(capsys, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--port", str(port), "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"loyaltylab: error: --port: cannot listen on 127.0.0.1:{port}: in use"]


def test_a_results_folder_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    assert main(["app", "--results", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"loyaltylab: error: --results: {tmp_path / 'file'} is not a folder")


def test_it_listens_on_this_computer_only_by_default():
    sock = bind("127.0.0.1", 0)
    try:
        assert url(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()
    args = build_parser().parse_args(["app"])
    assert (args.host, args.port, args.results) == ("127.0.0.1", 8765, "results")
