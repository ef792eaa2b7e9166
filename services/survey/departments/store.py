"""Departments in MongoDB (`departments`, keyed by code)."""


class Departments:
    def __init__(self, db):
        self.collection = db.departments

    def add(self, uow, code, name, at):
        """Stage a new department; the unit of work's commit raises AlreadyExists when the code is taken."""
        return uow.add("departments", {"_id": code, "name": name, "created_at": at})

    def all(self):
        """[{code, name}] by code."""
        return [{"code": d["_id"], "name": d["name"]} for d in self.collection.find({}, {"name": 1}).sort("_id", 1)]

    def names(self):
        """{code: name} of every department."""
        return {d["_id"]: d["name"] for d in self.collection.find({}, {"name": 1})}

    def codes(self):
        return {d["_id"] for d in self.collection.find({}, {"_id": 1})}

    def exists(self, code):
        return code is not None and self.collection.find_one({"_id": code}, {"_id": 1}) is not None
