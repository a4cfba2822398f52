import multiprocessing as mp, sys

def child(q):
    import sys
    q.put((sys.executable, "alltalk_launch" in sys.modules))

if __name__ == "__main__":
    print("parent", sys.executable, sys._base_executable)
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=child, args=(q,))
    p.start(); print("child", q.get(timeout=60)); p.join()
