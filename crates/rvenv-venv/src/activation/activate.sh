# Activates the virtual environment at __VENV_COMMENT__ (written by rvenv).
# Use it with `. __VENV_COMMENT__/bin/activate` from sh, dash, bash or zsh; `deactivate` undoes it.

# A venv that is already active (ours or anyone's) is deactivated first, by its own function.
if [ -n "${VIRTUAL_ENV:-}" ] && command -v deactivate >/dev/null 2>&1; then
    deactivate
fi

deactivate () {
    # `${X+set}` tells "unset" from "set but empty", so each variable comes back exactly as it was.
    if [ -n "${_RVENV_SAVED_PATH+set}" ]; then
        PATH="$_RVENV_SAVED_PATH"
        export PATH
        unset _RVENV_SAVED_PATH
    fi
    if [ -n "${_RVENV_SAVED_PYTHONHOME+set}" ]; then
        PYTHONHOME="$_RVENV_SAVED_PYTHONHOME"
        export PYTHONHOME
        unset _RVENV_SAVED_PYTHONHOME
    fi
    if [ -n "${_RVENV_SAVED_PS1+set}" ]; then
        PS1="$_RVENV_SAVED_PS1"
        unset _RVENV_SAVED_PS1
    elif [ -n "${_RVENV_UNSET_PS1:-}" ]; then
        unset PS1
    fi
    unset _RVENV_UNSET_PS1 VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    # Commands found while active must be looked up again.
    hash -r 2>/dev/null
    if [ "${1:-}" != "nondestructive" ]; then
        unset -f deactivate
    fi
}

VIRTUAL_ENV=__VENV_SH__
VIRTUAL_ENV_PROMPT=__PROMPT_SH__
export VIRTUAL_ENV VIRTUAL_ENV_PROMPT

_RVENV_SAVED_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH

if [ -n "${PYTHONHOME+set}" ]; then
    _RVENV_SAVED_PYTHONHOME="$PYTHONHOME"
    unset PYTHONHOME
fi

if [ -z "${VIRTUAL_ENV_DISABLE_PROMPT:-}" ]; then
    if [ -n "${PS1+set}" ]; then
        _RVENV_SAVED_PS1="$PS1"
    else
        _RVENV_UNSET_PS1=1
    fi
    PS1="($VIRTUAL_ENV_PROMPT) ${PS1:-}"
fi

hash -r 2>/dev/null
